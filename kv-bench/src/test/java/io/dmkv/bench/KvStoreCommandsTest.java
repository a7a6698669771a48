package io.dmkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;

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
    void binaryKeysAndValuesTravelAsHexOrBase64()
    {
        final Run put = kv("put", "--hex", "ff00fe", "c328");
        assertEquals(0, put.exit(), put.err());
        final Run hex = kv("get", "--hex", "ff00fe");
        assertEquals(0, hex.exit(), hex.err());
        assertEquals("c328", hex.out().strip());
        final Run b64 = kv("get", "--base64", "/wD+");
        assertEquals(0, b64.exit(), b64.err());
        assertEquals("wyg=", b64.out().strip(), "the same key and value in base64");
        assertEquals(0, kv("put", "--base64", "/wD/", "aGk=").exit());
        assertEquals("6869", kv("get", "--hex", "ff00ff").out().strip(), "a key one byte apart is another key");
        assertEquals("c328", kv("get", "--hex", "ff00fe").out().strip(), "which left the first alone");

        assertEquals(0, kv("put", "--hex", hex("binary-value"), "ff").exit());
        final Run refused = kv("get", "binary-value");
        assertEquals(1, refused.exit(), refused.out());
        assertTrue(refused.err().contains("not valid UTF-8") && refused.err().contains("--hex"), refused.err());

        assertEquals(0, kv("delete", "--base64", "/wD+").exit());
        assertEquals(1, kv("get", "--hex", "ff00fe").exit(), "deleted by its base64 name");
    }

    @Test
    void textThatIsNotUtf8IsRefusedInsteadOfBecomingAnotherKey()
    {
        final Run replaced = kv("put", "user\uFFFD1", "alice");
        assertEquals(2, replaced.exit(), replaced.out());
        assertTrue(replaced.err().contains("KEY is not valid UTF-8") && replaced.err().contains("--base64"),
            replaced.err());
        final Run surrogate = kv("put", "k", "half \uD800 pair");
        assertEquals(2, surrogate.exit());
        assertTrue(surrogate.err().contains("VALUE is not valid UTF-8"), surrogate.err());
        final Run badHex = kv("get", "--hex", "zz");
        assertEquals(2, badHex.exit());
        assertTrue(badHex.err().contains("KEY is not valid hex"), badHex.err());
        assertEquals(2, kv("get", "--hex", "--base64", "00").exit(), "one encoding at a time");

        assertEquals(0, kv("put", "caf\u00e9", "cr\u00e8me").exit(), "valid non-ASCII text is fine");
        assertEquals(hex("cr\u00e8me"), kv("get", "--hex", hex("caf\u00e9")).out().strip(), "stored as its UTF-8 bytes");
        assertEquals("cr\u00e8me", kv("get", "caf\u00e9").out().strip());
    }

    @Test
    void invalidBytesFromTheCommandLineAreRefused() throws Exception
    {
        // As a shell hands them over: the JVM sees raw bytes 'k', 0xFF in a UTF-8 locale.
        final ProcessBuilder pb = new ProcessBuilder("bash", "-c",
            "exec \"$0\" -Xmx64m -cp \"$1\" io.dmkv.bench.cli.KvCli put --memnodes 127.0.0.1:1 \"$(printf 'k\\377')\" v",
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), System.getProperty("java.class.path"));
        pb.environment().put("LC_ALL", "C.UTF-8");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        final Process p = pb.start();
        final String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), err);
        assertTrue(err.contains("KEY is not valid UTF-8"), err);
    }

    private static String hex(final String text)
    {
        return HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8));
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
