package io.dmkv;

import io.dmkv.computenode.proxy.FlexKv;

/** A store's FlexKV parts for tests outside this package (the accessor is package-private). */
public final class FlexKvParts
{
    private FlexKvParts()
    {
    }

    /** {@code store}'s FlexKV parts (null in a FUSEE cluster). */
    public static FlexKv of(final KvStore store)
    {
        return store.flexkv();
    }
}
