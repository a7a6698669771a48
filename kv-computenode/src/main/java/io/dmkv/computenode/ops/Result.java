package io.dmkv.computenode.ops;

/** What a mutation did. */
public enum Result
{
    INSERTED,
    UPDATED,
    DELETED,
    /** INSERT of a key that exists. */
    EXISTS,
    /** UPDATE or DELETE of a key that does not exist. */
    NOT_FOUND
}
