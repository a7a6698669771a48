package io.dmkv.bench.cli;

import java.util.List;
import java.util.concurrent.Callable;

import io.dmkv.KvAdmin;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kv verify}: checks a cluster's consistency. */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Checks the cluster: every index slot agrees on every replica and points at a whole object"
        + " whose checksum and key hash match; no insert lock or frozen bucket is held by a client that is gone;"
        + " every block is free, handed over or owned by a live client; no object is both pointed at and"
        + " free. Prints OK, or each problem and exits 1. On a live cluster a suspicious slot is checked"
        + " again after dmkv.timeout; --quiesce skips that wait when no client runs.",
        "Example: kv verify --memnodes 10.0.0.5:7410,10.0.0.6:7410 --replication 2"})
public final class VerifyCommand implements Callable<Integer>
{
    @Mixin
    StoreOptions store;

    @Option(names = "--quiesce", description = "No client is running: report problems without re-checking them.")
    boolean quiesce;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        final List<String> problems = store.withAdmin((KvAdmin a) -> a.verify(quiesce));
        final KvAdmin.Blocks blocks = store.withAdmin(KvAdmin::blocks);
        final String summary = blocks.total() + " blocks: " + blocks.free() + " free, " + blocks.handedOver()
            + " handed over, " + blocks.owned() + " owned " + blocks.ownedPerClient();
        if (problems.isEmpty())
        {
            return StoreOptions.ok(spec, "OK (" + summary + ")");
        }
        for (final String p : problems)
        {
            spec.commandLine().getOut().println(p);
        }
        spec.commandLine().getOut().println(problems.size() + " problems (" + summary + ")");
        spec.commandLine().getOut().flush();
        return 1;
    }
}
