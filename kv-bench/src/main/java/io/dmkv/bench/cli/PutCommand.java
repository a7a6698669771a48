package io.dmkv.bench.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code kv put}: sets one key on running memory nodes. */
@Command(name = "put", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Sets KEY to VALUE (UTF-8, or bytes with --hex or --base64), inserting it if absent, and prints OK.",
        "Example: kv put --memnodes 10.0.0.5:7410,10.0.0.6:7410 --replication 2 user:1 alice"})
public final class PutCommand implements Callable<Integer>
{
    @Mixin
    StoreOptions store;

    @Mixin
    BinaryOptions bytes;

    @Parameters(index = "0", paramLabel = "KEY", description = "The key: 1..1024 bytes (UTF-8 text unless --hex or --base64).")
    String key;

    @Parameters(index = "1", paramLabel = "VALUE", description = "The value: up to 64,216 bytes (UTF-8 text unless --hex or --base64).")
    String value;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        final byte[] k = bytes.decode("KEY", key);
        final byte[] v = bytes.decode("VALUE", value);
        store.withStore(kv ->
        {
            kv.put(k, v);
            return null;
        });
        return StoreOptions.ok(spec, "OK");
    }
}
