package io.dmkv.bench.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code kv delete}: removes one key from running memory nodes. */
@Command(name = "delete", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Removes KEY and prints OK. Exits 1 with 'not found' on stderr if KEY was absent.",
        "Example: kv delete --memnodes 10.0.0.5:7410,10.0.0.6:7410 --replication 2 user:1"})
public final class DeleteCommand implements Callable<Integer>
{
    @Mixin
    StoreOptions store;

    @Mixin
    BinaryOptions bytes;

    @Parameters(index = "0", paramLabel = "KEY", description = "The key: 1..1024 bytes (UTF-8 text unless --hex or --base64).")
    String key;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        final byte[] k = bytes.decode("KEY", key);
        final boolean deleted = store.withStore(kv -> kv.delete(k));
        return deleted ? StoreOptions.ok(spec, "OK") : StoreOptions.notFound(spec, key);
    }
}
