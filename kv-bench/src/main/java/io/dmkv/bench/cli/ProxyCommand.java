package io.dmkv.bench.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import io.dmkv.InvalidInputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code kv proxy}: a FlexKV cluster's partition map, and pinning a partition. */
@Command(name = "proxy", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Shows a flexkv cluster's partition map (which compute node proxies each partition), or pins one"
        + " partition: 'assign P NODE' to a live proxy (a compute node name from 'kv status'), 'assign P none' to"
        + " one-sided mode, 'assign P auto' back to the automatic assignment. The partition manager moves it"
        + " within a second; the command returns once the pin is recorded (docs/flexkv.md).",
        "Examples: kv proxy --coordinator 127.0.0.1:2181",
        "          kv proxy --coordinator 127.0.0.1:2181 assign 3 none"})
public final class ProxyCommand implements Callable<Integer>
{
    @Mixin
    StoreOptions store;

    @Parameters(index = "0", arity = "0..1", paramLabel = "assign", description = "'assign' to pin a partition.")
    String action;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PARTITION", description = "The partition to pin.")
    Integer partition;

    @Parameters(index = "2", arity = "0..1", paramLabel = "NODE|none|auto", description = "Where to pin it.")
    String node;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call()
    {
        if (action != null && (!action.equals("assign") || partition == null || node == null))
        {
            throw new CommandLine.ParameterException(spec.commandLine(),
                "usage: kv proxy [options] [assign PARTITION NODE|none|auto]");
        }
        final PrintWriter out = spec.commandLine().getOut();
        return store.withAdmin(admin ->
        {
            if (action != null)
            {
                try
                {
                    admin.assignPartition(partition, node);
                }
                catch (final InvalidInputException e)
                {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
                }
                out.printf("partition %d pinned to %s%n", partition, node);
            }
            StatusCommand.printPartitions(out, admin);
            out.flush();
            return 0;
        });
    }
}
