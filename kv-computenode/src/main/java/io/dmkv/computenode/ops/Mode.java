package io.dmkv.computenode.ops;

/** What a mutation does. */
public enum Mode
{
    /** Insert or update. */
    PUT,
    /** Insert if absent. */
    INSERT,
    /** Update if present. */
    UPDATE,
    /** Remove if present. */
    DELETE
}
