package io.dmkv.bench.cli;

import java.util.concurrent.Callable;

import io.dmkv.KvAdmin;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kv recover}: recovers a crashed client from its log. */
@Command(name = "recover", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Recovers a crashed client from its embedded log: settles the slots it left half"
        + " replicated, releases its insert locks, frees what it never used and hands its blocks over"
        + " (docs/recovery.md). Safe to run again. The client must be dead: coordinated clusters refuse a"
        + " live one; in static mode you vouch for it.",
        "Example: kv recover --memnodes 10.0.0.5:7410,10.0.0.6:7410 --replication 2 --client 7"})
public final class RecoverCommand implements Callable<Integer>
{
    @Mixin
    StoreOptions store;

    @Option(names = "--client", paramLabel = "ID", required = true,
        description = "Id of the crashed client (1..65535; kv status lists who holds blocks).")
    int client;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        if (client < 1 || client > 65_535)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), "--client must be in 1..65535, got " + client);
        }
        final KvAdmin.Recovery r = store.withAdmin(a -> a.recover(client));
        return StoreOptions.ok(spec, "recovered client " + r.clientId() + " in " + r.took().toMillis() + " ms: "
            + r.logEntries() + " log entries (" + r.committedEntries() + " committed), " + r.slotsSettled()
            + " slots settled, " + r.locksReleased() + " insert locks released, " + r.blocksHandedOver()
            + " blocks handed over, " + r.blocksReleased() + " released, " + r.objectsFreed() + " objects freed");
    }
}
