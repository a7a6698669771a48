package io.dmkv.rdma.transport.rdma;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Proves {@link IbvSendWrDescriptor} and {@link IbvWcStatus} against the C header: compiles
 * {@code src/test/c/ibv_layout.c} with gcc against {@code <infiniband/verbs.h>}, runs it, and
 * compares every offset, field size and constant with the Java side. Where gcc or the header is
 * missing the test is skipped, naming what is missing, unless {@code -Ddmkv.requireNativeChecks=true}
 * (CI), where that is a failure.
 */
final class IbvLayoutNativeTest
{
    private static final Path SOURCE = Path.of("src", "test", "c", "ibv_layout.c");
    private static final boolean REQUIRED = Boolean.getBoolean("dmkv.requireNativeChecks");

    @Test
    void javaLayoutConstantsMatchInfinibandVerbsHeader() throws Exception
    {
        assertTrue(Files.isRegularFile(SOURCE), "the C layout probe " + SOURCE.toAbsolutePath() + " is part of the "
            + "module and must exist");
        requireOrSkip(commandWorks("gcc", "--version"), "gcc is not installed (apt-get install gcc)");

        final Path dir = Files.createTempDirectory("dmkv-ibv-layout");
        try
        {
            final Path binary = dir.resolve("ibv_layout");
            final Result compiled = run(dir, "gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", binary.toString(),
                SOURCE.toAbsolutePath().toString());
            if (compiled.exitCode != 0)
            {
                requireOrSkip(!compiled.output.contains("infiniband/verbs.h"), "<infiniband/verbs.h> is missing "
                    + "(apt-get install libibverbs-dev): " + compiled.output.trim());
                fail("compiling " + SOURCE + " failed:\n" + compiled.output);
            }
            final Result ran = run(dir, binary.toString());
            assertEquals(0, ran.exitCode, "the layout probe failed:\n" + ran.output);
            final Map<String, Long> actual = parse(ran.output);

            final Map<String, Long> expected = expected();
            final List<String> mismatches = new ArrayList<>();
            for (final Map.Entry<String, Long> e : expected.entrySet())
            {
                final Long c = actual.get(e.getKey());
                if (c == null)
                {
                    mismatches.add(e.getKey() + ": not printed by the C probe");
                }
                else if (!c.equals(e.getValue()))
                {
                    mismatches.add(e.getKey() + ": verbs.h says " + c + ", Java says " + e.getValue());
                }
            }
            for (final String key : actual.keySet())
            {
                if (!expected.containsKey(key))
                {
                    mismatches.add(key + ": printed by the C probe but not checked in Java");
                }
            }
            assertTrue(mismatches.isEmpty(), "layout mismatches:\n" + String.join("\n", mismatches));

            for (final Map.Entry<String, Long> e : actual.entrySet())
            {
                if (e.getKey().startsWith("const.IBV_WC_"))
                {
                    assertEquals(e.getKey().substring("const.".length()), IbvWcStatus.name(e.getValue().intValue()),
                        "IbvWcStatus.name of " + e.getValue());
                }
            }
        }
        finally
        {
            deleteRecursively(dir);
        }
    }

    @Test
    void atomicUnionFitsInsideDisnisWorkRequestStride()
    {
        // DiSNI 2.1 packs work requests 72 bytes apart: wr.atomic must end before the next one starts.
        assertTrue(IbvSendWrDescriptor.ATOMIC_END <= IbvSendWrDescriptor.DISNI_WR_STRIDE,
            "wr.atomic ends at " + IbvSendWrDescriptor.ATOMIC_END);
        assertEquals(IbvSendWrDescriptor.ATOMIC_END, IbvSendWrDescriptor.ATOMIC_RKEY_OFFSET + 4);
    }

    private static Map<String, Long> expected()
    {
        final Map<String, Long> m = new LinkedHashMap<>();
        m.put("sizeof.ibv_send_wr", (long)IbvSendWrDescriptor.SEND_WR_SIZE);
        m.put("sizeof.ibv_sge", (long)IbvSendWrDescriptor.SGE_SIZE);
        m.put("sizeof.pointer", 8L);
        field(m, "wr.wr_id", IbvSendWrDescriptor.WR_ID_OFFSET, Long.BYTES);
        field(m, "wr.next", IbvSendWrDescriptor.NEXT_OFFSET, Long.BYTES);
        field(m, "wr.sg_list", IbvSendWrDescriptor.SG_LIST_OFFSET, Long.BYTES);
        field(m, "wr.num_sge", IbvSendWrDescriptor.NUM_SGE_OFFSET, Integer.BYTES);
        field(m, "wr.opcode", IbvSendWrDescriptor.OPCODE_OFFSET, Integer.BYTES);
        field(m, "wr.send_flags", IbvSendWrDescriptor.SEND_FLAGS_OFFSET, Integer.BYTES);
        field(m, "wr.imm_data", IbvSendWrDescriptor.IMM_DATA_OFFSET, Integer.BYTES);
        field(m, "wr.rdma.remote_addr", IbvSendWrDescriptor.RDMA_REMOTE_ADDR_OFFSET, Long.BYTES);
        field(m, "wr.rdma.rkey", IbvSendWrDescriptor.RDMA_RKEY_OFFSET, Integer.BYTES);
        field(m, "wr.atomic.remote_addr", IbvSendWrDescriptor.ATOMIC_REMOTE_ADDR_OFFSET, Long.BYTES);
        field(m, "wr.atomic.compare_add", IbvSendWrDescriptor.ATOMIC_COMPARE_ADD_OFFSET, Long.BYTES);
        field(m, "wr.atomic.swap", IbvSendWrDescriptor.ATOMIC_SWAP_OFFSET, Long.BYTES);
        field(m, "wr.atomic.rkey", IbvSendWrDescriptor.ATOMIC_RKEY_OFFSET, Integer.BYTES);
        field(m, "sge.addr", IbvSendWrDescriptor.SGE_ADDR_OFFSET, Long.BYTES);
        field(m, "sge.length", IbvSendWrDescriptor.SGE_LENGTH_OFFSET, Integer.BYTES);
        field(m, "sge.lkey", IbvSendWrDescriptor.SGE_LKEY_OFFSET, Integer.BYTES);
        m.put("const.IBV_WR_RDMA_WRITE", (long)IbvSendWrDescriptor.IBV_WR_RDMA_WRITE);
        m.put("const.IBV_WR_RDMA_READ", (long)IbvSendWrDescriptor.IBV_WR_RDMA_READ);
        m.put("const.IBV_WR_ATOMIC_CMP_AND_SWP", (long)IbvSendWrDescriptor.IBV_WR_ATOMIC_CMP_AND_SWP);
        m.put("const.IBV_WR_ATOMIC_FETCH_AND_ADD", (long)IbvSendWrDescriptor.IBV_WR_ATOMIC_FETCH_AND_ADD);
        m.put("const.IBV_SEND_FENCE", (long)IbvSendWrDescriptor.IBV_SEND_FENCE);
        m.put("const.IBV_SEND_SIGNALED", (long)IbvSendWrDescriptor.IBV_SEND_SIGNALED);
        m.put("const.IBV_SEND_INLINE", (long)IbvSendWrDescriptor.IBV_SEND_INLINE);
        m.put("const.IBV_ACCESS_LOCAL_WRITE", (long)IbvSendWrDescriptor.IBV_ACCESS_LOCAL_WRITE);
        m.put("const.IBV_ACCESS_REMOTE_WRITE", (long)IbvSendWrDescriptor.IBV_ACCESS_REMOTE_WRITE);
        m.put("const.IBV_ACCESS_REMOTE_READ", (long)IbvSendWrDescriptor.IBV_ACCESS_REMOTE_READ);
        m.put("const.IBV_ACCESS_REMOTE_ATOMIC", (long)IbvSendWrDescriptor.IBV_ACCESS_REMOTE_ATOMIC);
        m.put("const.IBV_WC_SUCCESS", (long)IbvWcStatus.SUCCESS);
        m.put("const.IBV_WC_LOC_LEN_ERR", (long)IbvWcStatus.LOC_LEN_ERR);
        m.put("const.IBV_WC_LOC_QP_OP_ERR", (long)IbvWcStatus.LOC_QP_OP_ERR);
        m.put("const.IBV_WC_LOC_PROT_ERR", (long)IbvWcStatus.LOC_PROT_ERR);
        m.put("const.IBV_WC_WR_FLUSH_ERR", (long)IbvWcStatus.WR_FLUSH_ERR);
        m.put("const.IBV_WC_BAD_RESP_ERR", (long)IbvWcStatus.BAD_RESP_ERR);
        m.put("const.IBV_WC_LOC_ACCESS_ERR", (long)IbvWcStatus.LOC_ACCESS_ERR);
        m.put("const.IBV_WC_REM_INV_REQ_ERR", (long)IbvWcStatus.REM_INV_REQ_ERR);
        m.put("const.IBV_WC_REM_ACCESS_ERR", (long)IbvWcStatus.REM_ACCESS_ERR);
        m.put("const.IBV_WC_REM_OP_ERR", (long)IbvWcStatus.REM_OP_ERR);
        m.put("const.IBV_WC_RETRY_EXC_ERR", (long)IbvWcStatus.RETRY_EXC_ERR);
        m.put("const.IBV_WC_RNR_RETRY_EXC_ERR", (long)IbvWcStatus.RNR_RETRY_EXC_ERR);
        m.put("const.IBV_WC_FATAL_ERR", (long)IbvWcStatus.FATAL_ERR);
        m.put("const.IBV_WC_GENERAL_ERR", (long)IbvWcStatus.GENERAL_ERR);
        return m;
    }

    private static void field(final Map<String, Long> m, final String name, final int offset, final int size)
    {
        m.put(name + ".offset", (long)offset);
        m.put(name + ".size", (long)size);
    }

    private static Map<String, Long> parse(final String output)
    {
        final Map<String, Long> m = new TreeMap<>();
        for (final String line : output.split("\n"))
        {
            final int eq = line.indexOf('=');
            if (eq > 0)
            {
                m.put(line.substring(0, eq).trim(), Long.parseLong(line.substring(eq + 1).trim()));
            }
        }
        return m;
    }

    /** Skips with {@code why}, or fails with it when native checks are required. */
    private static void requireOrSkip(final boolean condition, final String why)
    {
        if (!condition)
        {
            if (REQUIRED)
            {
                fail("native layout check required (dmkv.requireNativeChecks=true) but " + why);
            }
            Assumptions.assumeTrue(false, "skipped: " + why);
        }
    }

    private static boolean commandWorks(final String... command)
    {
        try
        {
            return run(Path.of("."), command).exitCode == 0;
        }
        catch (final IOException e)
        {
            return false;
        }
    }

    private static Result run(final Path dir, final String... command) throws IOException
    {
        final Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        final byte[] out = p.getInputStream().readAllBytes();
        try
        {
            if (!p.waitFor(120, TimeUnit.SECONDS))
            {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish");
            }
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted running " + String.join(" ", command), e);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static void deleteRecursively(final Path dir) throws IOException
    {
        try (Stream<Path> paths = Files.walk(dir))
        {
            for (final Path p : paths.sorted(Comparator.reverseOrder()).toList())
            {
                Files.deleteIfExists(p);
            }
        }
    }

    private record Result(int exitCode, String output)
    {
    }
}
