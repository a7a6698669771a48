package io.dmkv.bench.cli;

import io.dmkv.InvalidInputException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code scripts/kv}: the dmkv command line.
 */
@Command(name = "kv", mixinStandardHelpOptions = true, version = "dmkv 0.1.0",
    description = "dmkv: a memory-disaggregated key-value store. Commands:",
    subcommands = {DemoCommand.class, BenchCommand.class, ModelCommand.class, PutCommand.class, GetCommand.class,
        DeleteCommand.class, PingCommand.class, StatusCommand.class, RecoverCommand.class, VerifyCommand.class,
        SoakCommand.class, ProxyCommand.class, StatsCommand.class, DecommissionCommand.class,
        CommandLine.HelpCommand.class})
public final class KvCli implements Runnable
{
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Runs the command line and exits with its code. */
    public static void main(final String[] args)
    {
        System.exit(run(args));
    }

    /** Runs the command line; returns the exit code (0 ok, 1 failed, 2 bad usage). */
    public static int run(final String[] args)
    {
        return commandLine().execute(args);
    }

    /**
     * The command line as {@code scripts/kv} runs it: a command that fails prints
     * {@code COMMAND: message} (no stack trace) and exits 1, or 2 when the store refused the
     * input (a key or value out of bounds).
     */
    public static CommandLine commandLine()
    {
        final CommandLine cl = new CommandLine(new KvCli());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) ->
        {
            commandLine.getErr().println(commandLine.getCommandName() + ": " + e.getMessage());
            commandLine.getErr().flush();
            return e instanceof InvalidInputException ? 2 : 1;
        });
        return cl;
    }

    @Override
    public void run()
    {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "missing command (try: kv demo, kv bench --help, kv model --help, kv put --help, kv get --help, kv delete --help, kv ping --help, kv status --help, kv soak --help)");
    }

    /** Picocli converter for sizes such as 512M or 4G. */
    public static final class SizeConverter implements CommandLine.ITypeConverter<Long>
    {
        @Override
        public Long convert(final String value)
        {
            try
            {
                return io.dmkv.core.config.Sizes.parse(value);
            }
            catch (final IllegalArgumentException e)
            {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Picocli converter for memory-node addresses (HOST:PORT): one without a port is bad usage. */
    public static final class EndpointConverter implements CommandLine.ITypeConverter<String>
    {
        @Override
        public String convert(final String value)
        {
            final String problem = io.dmkv.core.config.Endpoints.problem(value);
            if (problem != null)
            {
                throw new CommandLine.TypeConversionException(problem);
            }
            return value.trim();
        }
    }

    /** Picocli converter for durations such as 500ms, 10s or 2m. */
    public static final class DurationConverter implements CommandLine.ITypeConverter<java.time.Duration>
    {
        @Override
        public java.time.Duration convert(final String value)
        {
            try
            {
                return io.dmkv.core.config.Durations.parse(value);
            }
            catch (final IllegalArgumentException e)
            {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
