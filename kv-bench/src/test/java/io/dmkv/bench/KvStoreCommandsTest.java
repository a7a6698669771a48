package io.dmkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.bench.KvCliTest.Run;
import io.dmkv.memnode.EmbeddedCluster;

/**
 * {@code kv put}, {@code kv get} and {@code kv delete} against memory nodes serving over tcp, as
 * a user runs them: every command opens its own store, so what one wrote the next one reads.
 */
@Timeout(120)
class KvStoreCommandsTest
{
    private static EmbeddedCluster cluster;
    private static String memnodes;

    @BeforeAll
    static void startMemoryNodes()
    {
        cluster = EmbeddedCluster.start(2, 128L << 20, "tcp");
        memnodes = String.join(",", cluster.endpoints());
    }

    @AfterAll
    static void stopMemoryNodes()
    {
        cluster.close();
    }

    private static Run kv(final String command, final String... args)
    {
        final String[] all = new String[args.length + 5];
        all[0] = command;
        all[1] = "--memnodes";
        all[2] = memnodes;
        all[3] = "--replication";
        all[4] = "2";
        System.arraycopy(args, 0, all, 5, args.length);
        return KvCliTest.run(all);
    }

    @Test
    void getReturnsWhatPutStored()
    {
        final Run put = kv("put", "user:1", "alice");
        assertEquals(0, put.exit(), put.err());
        assertEquals("OK", put.out().strip());
        final Run get = kv("get", "user:1");
        assertEquals(0, get.exit(), get.err());
        assertEquals("alice" + System.lineSeparator(), get.out());

        assertEquals(0, kv("put", "user:1", "bob").exit());
        assertEquals("bob", kv("get", "user:1").out().strip(), "put overwrites");
    }

    @Test
    void getOfAMissingKeyExitsOneWithNotFound()
    {
        final Run get = kv("get", "no-such-key");
        assertEquals(1, get.exit(), get.out());
        assertEquals("", get.out());
        assertTrue(get.err().contains("not found"), get.err());
    }

    @Test
    void deleteRemovesTheKeyOnceThenReportsItAbsent()
    {
        assertEquals(0, kv("put", "doomed", "x").exit());
        final Run first = kv("delete", "doomed");
        assertEquals(0, first.exit(), first.err());
        assertEquals("OK", first.out().strip());
        final Run second = kv("delete", "doomed");
        assertEquals(1, second.exit(), second.out());
        assertTrue(second.err().contains("not found"), second.err());
        assertEquals(1, kv("get", "doomed").exit());
    }

    @Test
    void aConfigFileWorksInsteadOfMemnodes(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("kv.properties");
        Files.writeString(file, "dmkv.memnodes=" + memnodes + "\ndmkv.transport=tcp\ndmkv.replication=2\n");
        assertEquals(0, kv("put", "from-flags", "1").exit());
        final Run get = KvCliTest.run("get", "--config", file.toString(), "from-flags");
        assertEquals(0, get.exit(), get.err());
        assertEquals("1", get.out().strip());
        assertEquals(0, KvCliTest.run("put", "--config", file.toString(), "from-file", "2").exit());
        assertEquals("2", kv("get", "from-file").out().strip());
    }

    @Test
    void aReplicationFactorOtherThanTheClustersIsRefusedClearly()
    {
        assertEquals(0, kv("put", "r2", "v").exit());
        final Run r1 = KvCliTest.run("get", "--memnodes", memnodes, "r2");
        assertEquals(1, r1.exit(), r1.out());
        assertTrue(r1.err().contains("replicates 2 ways"), r1.err());
    }

    @Test
    void badArgumentsExitTwo(@TempDir final Path dir) throws IOException
    {
        assertEquals(2, KvCliTest.run("get", "key").exit(), "no memory nodes");
        assertEquals(2, kv("get").exit(), "no key");
        assertEquals(2, kv("put", "key").exit(), "no value");
        assertEquals(2, kv("get", "a", "b").exit(), "extra argument");
        assertEquals(2, kv("get", "--frobnicate", "a").exit(), "unknown option");
        final Run both = KvCliTest.run("get", "--memnodes", memnodes, "--config", "kv.properties", "key");
        assertEquals(2, both.exit());
        assertTrue(both.err().contains("mutually exclusive"), both.err());
        final Run zero = KvCliTest.run("get", "--memnodes", memnodes, "--replication", "0", "key");
        assertEquals(2, zero.exit());
        assertTrue(zero.err().contains("dmkv.replication must be in 1..5"), zero.err());
        assertEquals(2, KvCliTest.run("get", "--memnodes", memnodes, "--transport", "carrier-pigeon", "key").exit());
        final Run missing = KvCliTest.run("get", "--config", dir.resolve("absent.properties").toString(), "key");
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("cannot read configuration"), missing.err());
        final Path typo = dir.resolve("typo.properties");
        Files.writeString(typo, "dmkv.memnodes=" + memnodes + "\ndmkv.replicaton=2\n");
        final Run unknown = KvCliTest.run("get", "--config", typo.toString(), "key");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("unknown property dmkv.replicaton"), unknown.err());
        final Run noPort = KvCliTest.run("get", "--memnodes", memnodes + ",127.0.0.1", "key");
        assertEquals(2, noPort.exit(), noPort.err());
        assertTrue(noPort.err().contains("'127.0.0.1' has no port"), noPort.err());
        final Run longKey = kv("put", "k".repeat(2000), "v");
        assertEquals(2, longKey.exit());
        assertTrue(longKey.err().contains("1024"), longKey.err());
    }
}
