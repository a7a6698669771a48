package io.dmkv.bench.cli;

import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code kv get}: prints one key's value from running memory nodes. */
@Command(name = "get", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Prints the value of KEY (as UTF-8, or with --hex or --base64 as given). Exits 1 with 'not found' on"
        + " stderr if KEY has none, or if the value is not UTF-8 and neither --hex nor --base64 was given.",
        "Example: kv get --memnodes 10.0.0.5:7410,10.0.0.6:7410 --replication 2 user:1"})
public final class GetCommand implements Callable<Integer>
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
        final byte[] value = store.withStore(kv -> kv.get(k));
        return value == null ? StoreOptions.notFound(spec, key) : StoreOptions.ok(spec, bytes.encode(value));
    }
}
