package io.dmkv.bench.cli;

import java.nio.file.Path;
import java.util.List;

import io.dmkv.KvConfig;
import io.dmkv.KvConfigException;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * How {@code kv put|get|delete} reach a cluster: {@code --memnodes}, {@code --coordinator} or {@code --config}, plus the
 * transport and replication factor. A picocli mixin; {@link #config} turns it into a
 * {@link KvConfig}, reporting a bad value as a usage error.
 */
public final class StoreOptions
{
    /** Exactly one source of memory nodes. */
    static final class Source
    {
        @Option(names = "--memnodes", paramLabel = "HOST:PORT,...", split = ",", hideParamSyntax = true,
            converter = KvCli.EndpointConverter.class,
            description = "Memory nodes, in the cluster's order.")
        List<String> memnodes;

        @Option(names = "--coordinator", paramLabel = "HOST:PORT,...",
            description = "ZooKeeper of a coordinated cluster: the memory nodes come from it.")
        String coordinator;

        @Option(names = "--config", paramLabel = "FILE",
            description = "A KvConfig properties file (dmkv.memnodes, dmkv.transport, dmkv.replication, ...; see the "
                + "README's configuration reference). --transport and --replication override it.")
        Path config;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--transport", paramLabel = "NAME",
        description = "tcp, local (daemons started with --shm-file on this host) or rdma (default: tcp).")
    String transport;

    @Option(names = "--replication", paramLabel = "R",
        description = "Replicas of every object; must match the cluster's (default: 1).")
    Integer replication;

    @Option(names = "--mode", paramLabel = "MODE",
        description = "fusee or flexkv: the index mode of a cluster this command creates (with --coordinator); a"
            + " different mode than an existing cluster's is refused (default: the cluster's).")
    String mode;

    @CommandLine.Mixin
    SecurityOptions security;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    /**
     * The configuration these options describe.
     *
     * @throws CommandLine.ParameterException (exit 2) if a value is invalid or the file cannot be read.
     */
    public KvConfig config()
    {
        try
        {
            final KvConfig.Builder b = source.config != null ? KvConfig.fromFile(source.config).toBuilder()
                : source.coordinator != null ? KvConfig.builder().coordinator(source.coordinator)
                : KvConfig.builder().memnodes(source.memnodes.stream().map(String::trim).toList());
            if (transport != null)
            {
                b.transport(transport);
            }
            if (replication != null)
            {
                b.replication(replication);
            }
            if (mode != null)
            {
                b.mode(mode);
            }
            return security.apply(b).build();
        }
        catch (final KvConfigException e)
        {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /** Opens a store for one command, runs {@code op} on it and closes it. */
    public <T> T withStore(final java.util.function.Function<io.dmkv.KvStore, T> op)
    {
        try (io.dmkv.KvStore kv = io.dmkv.KvStore.open(config()))
        {
            return op.apply(kv);
        }
    }

    /** Opens the cluster's administration access for one command, runs {@code op} and closes it. */
    public <T> T withAdmin(final java.util.function.Function<io.dmkv.KvAdmin, T> op)
    {
        try (io.dmkv.KvAdmin admin = io.dmkv.KvAdmin.open(config()))
        {
            return op.apply(admin);
        }
    }

    /** Prints {@code line} on the command's output and returns exit status 0. */
    static int ok(final picocli.CommandLine.Model.CommandSpec spec, final String line)
    {
        spec.commandLine().getOut().println(line);
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** Reports a missing key on the command's error stream and returns exit status 1. */
    static int notFound(final picocli.CommandLine.Model.CommandSpec spec, final String key)
    {
        spec.commandLine().getErr().println("not found: " + key);
        spec.commandLine().getErr().flush();
        return 1;
    }
}
