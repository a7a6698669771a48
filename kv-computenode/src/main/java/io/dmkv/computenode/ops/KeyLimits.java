package io.dmkv.computenode.ops;

import io.dmkv.InvalidInputException;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.Slot;

/** The keys and values an index accepts, checked before anything is hashed or posted. */
public final class KeyLimits
{
    /** Longest key, in bytes. */
    public static final int MAX_KEY_LENGTH = KvObject.MAX_KEY_LENGTH;
    /** Longest value, in bytes (an object, header and log entry included, fits one slot's length field). */
    public static final int MAX_VALUE_LENGTH = KvObject.MAX_VALUE_LENGTH;

    private KeyLimits()
    {
    }

    /** Checks a key; the message says what is wrong. */
    public static void checkKey(final byte[] key)
    {
        if (key == null)
        {
            throw new InvalidInputException("key is null");
        }
        if (key.length == 0)
        {
            throw new InvalidInputException("key is empty");
        }
        if (key.length > MAX_KEY_LENGTH)
        {
            throw new InvalidInputException("key of " + key.length + " bytes exceeds the limit of " + MAX_KEY_LENGTH
                + " bytes");
        }
    }

    /** Checks a value; the message says what is wrong. */
    public static void checkValue(final byte[] value)
    {
        if (value == null)
        {
            throw new InvalidInputException("value is null");
        }
        if (value.length > MAX_VALUE_LENGTH)
        {
            throw new InvalidInputException("value of " + value.length + " bytes exceeds the limit of "
                + MAX_VALUE_LENGTH + " bytes (objects are at most " + Slot.MAX_OBJECT_LENGTH + " bytes)");
        }
    }
}
