package io.dmkv.bench.runner;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The command line that starts a JVM like this one: the same {@code java}, class path and dmkv
 * JVM flags, with its own heap. The flags come from, in order: the system property
 * {@code dmkv.jvm.flags} (Surefire sets it), the file {@code scripts/lib/jvm-flags} under
 * {@code $DMKV_HOME} (the scripts export it, in a source tree and in a distribution), or this
 * JVM's own {@code --add-exports}/{@code --add-opens} arguments.
 */
public final class JvmCommand
{
    /** System property with the JVM flags, as the pom's {@code dmkv.jvm.flags}. */
    public static final String FLAGS_PROPERTY = "dmkv.jvm.flags";
    /** slf4j-simple's log level property, passed on (children default to warn). */
    private static final String LOG_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

    private JvmCommand()
    {
    }

    /**
     * {@code java FLAGS -Xmx<heap> -cp CLASSPATH}: append the main class and its arguments.
     *
     * @param heap the child's {@code -Xmx} value, e.g. {@code 512m}.
     */
    public static List<String> forChild(final String heap)
    {
        final List<String> cmd = new ArrayList<>();
        cmd.add(javaExecutable());
        cmd.addAll(flags());
        cmd.add("-Xmx" + heap);
        cmd.add("-D" + LOG_LEVEL + "=" + System.getProperty(LOG_LEVEL, "warn"));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        return cmd;
    }

    static String javaExecutable()
    {
        final Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return Files.isExecutable(java) ? java.toString() : ProcessHandle.current().info().command().orElse("java");
    }

    /** The dmkv JVM flags (see the class comment for where they come from). */
    static List<String> flags()
    {
        final String property = System.getProperty(FLAGS_PROPERTY);
        if (property != null && !property.isBlank())
        {
            return split(property);
        }
        final String home = System.getenv("DMKV_HOME");
        if (home != null)
        {
            final Path file = Path.of(home, "scripts", "lib", "jvm-flags");
            if (Files.isReadable(file))
            {
                try
                {
                    return split(String.join(" ", Files.readAllLines(file)));
                }
                catch (final IOException e)
                {
                    // fall through to this JVM's own flags
                }
            }
        }
        final List<String> own = new ArrayList<>();
        final List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (int i = 0; i < args.size(); i++)
        {
            final String a = args.get(i);
            if (a.startsWith("--add-exports") || a.startsWith("--add-opens") || a.startsWith("--enable-native-access"))
            {
                own.add(a);
                if (!a.contains("=") && i + 1 < args.size())
                {
                    own.add(args.get(++i));
                }
            }
        }
        return own;
    }

    private static List<String> split(final String flags)
    {
        return Arrays.stream(flags.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }
}
