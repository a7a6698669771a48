package io.dmkv.rdma.transport.rdma;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.dmkv.rdma.TransportUnavailableException;

/**
 * Whether the {@code rdma} transport can start in this JVM and, if not, exactly why. Each
 * requirement is probed on its own so one report names every missing piece:
 * <ol>
 *   <li>{@link Requirement#PLATFORM}: little-endian LP64 Linux, the layout {@link IbvSendWrDescriptor} describes;</li>
 *   <li>{@link Requirement#RDMA_DEVICE}: an entry under {@code /sys/class/infiniband} (an RNIC, or Soft-RoCE);</li>
 *   <li>{@link Requirement#DISNI_CLASSES}: the {@code com.ibm.disni:disni} jar on the class path;</li>
 *   <li>{@link Requirement#LIBDISNI}: the native {@code libdisni} loadable from {@code java.library.path};</li>
 *   <li>{@link Requirement#RDMA_CM}: {@code rdma_create_event_channel} succeeding (the {@code rdma_ucm} device).</li>
 * </ol>
 * The JVM-wide probe runs once ({@link #probe()}): a failed native library load cannot be retried
 * in the same class loader anyway.
 */
public final class RdmaSupport
{
    /** Where users find how to build libdisni and set up RDMA; named in every refusal. */
    public static final String DOCS = "docs/rdma.md";
    /** Where Linux lists RDMA devices. */
    public static final Path SYS_CLASS_INFINIBAND = Path.of("/sys/class/infiniband");

    /** What the rdma transport needs from the machine. */
    public enum Requirement
    {
        PLATFORM,
        RDMA_DEVICE,
        DISNI_CLASSES,
        LIBDISNI,
        RDMA_CM
    }

    private static final String NATIVE_DISPATCHER = "com.ibm.disni.verbs.impl.NativeDispatcher";
    private static final String ENDPOINT_CLASS = "com.ibm.disni.RdmaEndpoint";
    private static volatile RdmaSupport probed;

    private final List<String> devices;
    private final Map<Requirement, String> missing;

    RdmaSupport(final List<String> devices, final Map<Requirement, String> missing)
    {
        this.devices = List.copyOf(devices);
        final EnumMap<Requirement, String> copy = new EnumMap<>(Requirement.class);
        copy.putAll(missing);
        this.missing = Collections.unmodifiableMap(copy);
    }

    /** The JVM-wide probe, run on first use. */
    public static RdmaSupport probe()
    {
        RdmaSupport s = probed;
        if (s == null)
        {
            synchronized (RdmaSupport.class)
            {
                s = probed;
                if (s == null)
                {
                    s = probe(SYS_CLASS_INFINIBAND);
                    probed = s;
                }
            }
        }
        return s;
    }

    /** Probes with {@code sysClassInfiniband} as the device directory (tests point it elsewhere). */
    static RdmaSupport probe(final Path sysClassInfiniband)
    {
        final Map<Requirement, String> missing = new EnumMap<>(Requirement.class);
        final String platform = checkPlatform();
        if (platform != null)
        {
            missing.put(Requirement.PLATFORM, platform);
        }

        final List<String> devices = new ArrayList<>();
        final String deviceProblem = listDevices(sysClassInfiniband, devices);
        if (deviceProblem != null)
        {
            missing.put(Requirement.RDMA_DEVICE, deviceProblem);
        }

        final ClassLoader loader = RdmaSupport.class.getClassLoader();
        try
        {
            Class.forName(ENDPOINT_CLASS, false, loader);
        }
        catch (final ClassNotFoundException | LinkageError e)
        {
            missing.put(Requirement.DISNI_CLASSES, "the DiSNI classes are not on the class path (" + e
                + "): add com.ibm.disni:disni:2.1");
            return new RdmaSupport(devices, missing);
        }

        try
        {
            // Initialising DiSNI's own dispatcher runs its System.loadLibrary("disni"), so the library
            // is bound to DiSNI's class loader, where its native methods live.
            Class.forName(NATIVE_DISPATCHER, true, loader);
        }
        catch (final ClassNotFoundException | LinkageError e)
        {
            // UnsatisfiedLinkError first, NoClassDefFoundError or ExceptionInInitializerError after.
            final String path = System.getProperty("java.library.path");
            final String error = String.valueOf(e);
            missing.put(Requirement.LIBDISNI, "libdisni is not loadable (" + error
                + (error.contains(path) ? "" : "; java.library.path=" + path) + "): build it from DiSNI's libdisni/ "
                + "sources and put " + System.mapLibraryName("disni") + " on -Djava.library.path");
            return new RdmaSupport(devices, missing);
        }

        final String cm = DisniProbe.openEventChannel();
        if (cm != null)
        {
            missing.put(Requirement.RDMA_CM, "rdma_create_event_channel failed (" + cm + "): is /dev/infiniband/"
                + "rdma_cm present and accessible (module rdma_ucm)?");
        }
        return new RdmaSupport(devices, missing);
    }

    /** True when every requirement is met. */
    public boolean isAvailable()
    {
        return missing.isEmpty();
    }

    /** The requirements that are not met (empty when available). */
    public Set<Requirement> missing()
    {
        return missing.isEmpty() ? EnumSet.noneOf(Requirement.class) : EnumSet.copyOf(missing.keySet());
    }

    /** Why {@code requirement} is not met, or null when it is. */
    public String problem(final Requirement requirement)
    {
        return missing.get(requirement);
    }

    /** The RDMA device names found under {@code /sys/class/infiniband}. */
    public List<String> devices()
    {
        return devices;
    }

    /** One line for logs and messages: the devices, or every missing piece and where to read on. */
    public String describe()
    {
        if (isAvailable())
        {
            return "rdma available (devices " + devices + ")";
        }
        final StringBuilder sb = new StringBuilder("rdma unavailable: ");
        boolean first = true;
        for (final Map.Entry<Requirement, String> e : missing.entrySet())
        {
            if (!first)
            {
                sb.append("; ");
            }
            first = false;
            sb.append(e.getValue());
        }
        return sb.append(". See ").append(DOCS).append(" to set up RDMA (or Soft-RoCE) and libdisni, or choose the ")
            .append("tcp transport").toString();
    }

    /**
     * Throws {@link TransportUnavailableException} naming every missing piece when rdma cannot
     * start; {@code what} says what was being started.
     */
    public void requireAvailable(final String what)
    {
        if (!isAvailable())
        {
            throw new TransportUnavailableException("cannot start " + what + ": " + describe());
        }
    }

    @Override
    public String toString()
    {
        return describe();
    }

    private static String checkPlatform()
    {
        final String os = System.getProperty("os.name", "");
        final String arch = System.getProperty("os.arch", "");
        final boolean lp64 = "amd64".equals(arch) || "x86_64".equals(arch) || "aarch64".equals(arch);
        if (!os.startsWith("Linux") || !lp64 || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
        {
            return "dmkv writes struct ibv_send_wr for little-endian LP64 Linux (x86_64, aarch64); this JVM runs on "
                + os + "/" + arch;
        }
        return null;
    }

    private static String listDevices(final Path dir, final List<String> out)
    {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir))
        {
            for (final Path p : entries)
            {
                out.add(p.getFileName().toString());
            }
        }
        catch (final NoSuchFileException e)
        {
            return "no RDMA device: " + dir + " does not exist (no RNIC, or no kernel RDMA support: load the "
                + "driver, e.g. mlx5_ib, or set up Soft-RoCE with 'rdma link add rxe0 type rxe netdev <if>')";
        }
        catch (final IOException | SecurityException e)
        {
            return "cannot list RDMA devices in " + dir + ": " + e;
        }
        Collections.sort(out);
        if (out.isEmpty())
        {
            return "no RDMA device: " + dir + " is empty (no RNIC driver loaded, or no Soft-RoCE link: "
                + "'rdma link add rxe0 type rxe netdev <if>')";
        }
        return null;
    }
}
