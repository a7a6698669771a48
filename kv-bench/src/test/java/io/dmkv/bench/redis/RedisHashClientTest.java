package io.dmkv.bench.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.bench.ycsb.YcsbArgs;
import io.dmkv.bench.ycsb.YcsbPhase;
import io.dmkv.bench.ycsb.YcsbReport;
import site.ycsb.ByteIterator;
import site.ycsb.DBException;
import site.ycsb.Status;
import site.ycsb.StringByteIterator;

/**
 * The Redis binding against a redis-server this test starts on a free loopback port; skipped
 * when redis-server is not installed.
 */
class RedisHashClientTest
{
    private static final String TABLE = "usertable";
    private static final String NOT_INSTALLED =
        "redis-server is not installed: skipping the Redis binding tests (sudo apt-get install -y redis-server)";

    @TempDir
    static Path dir;
    private static Process server;
    private static int port;
    private final List<RedisHashClient> clients = new ArrayList<>();

    @BeforeAll
    static void startRedis() throws IOException, InterruptedException
    {
        final Path binary = onPath("redis-server");
        if (binary == null)
        {
            return;
        }
        try (ServerSocket s = new ServerSocket(0))
        {
            port = s.getLocalPort();
        }
        server = new ProcessBuilder(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--logfile", dir.resolve("redis.log").toString())
            .redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true)
        {
            try
            {
                new Socket("127.0.0.1", port).close();
                return;
            }
            catch (final IOException e)
            {
                if (!server.isAlive() || System.nanoTime() > deadline)
                {
                    throw new IllegalStateException("redis-server did not start on port " + port + ": "
                        + Files.readString(dir.resolve("redis.out")), e);
                }
                Thread.sleep(20);
            }
        }
    }

    @AfterAll
    static void stopRedis() throws InterruptedException
    {
        if (server != null)
        {
            server.destroy();
            if (!server.waitFor(10, TimeUnit.SECONDS))
            {
                server.destroyForcibly();
            }
        }
    }

    /** Per test, so that each one is reported skipped with the reason (a class-level skip is silent). */
    @BeforeEach
    void needsRedis()
    {
        Assumptions.assumeTrue(server != null, NOT_INSTALLED);
    }

    @AfterEach
    void cleanUpClients() throws DBException
    {
        for (final RedisHashClient c : clients)
        {
            c.cleanup();
        }
        assertEquals(0, RedisHashClient.poolReferences(), "every init must be matched by its cleanup");
    }

    private static Path onPath(final String name)
    {
        for (final String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
        {
            final Path p = Path.of(d, name);
            if (Files.isExecutable(p))
            {
                return p;
            }
        }
        return null;
    }

    private static Properties props()
    {
        final Properties p = new Properties();
        p.setProperty(RedisHashClient.HOST, "127.0.0.1");
        p.setProperty(RedisHashClient.PORT, Integer.toString(port));
        return p;
    }

    private RedisHashClient client(final Properties p) throws DBException
    {
        final RedisHashClient c = new RedisHashClient();
        c.setProperties(p);
        c.init();
        clients.add(c);
        return c;
    }

    private static Map<String, ByteIterator> fields(final String... namesAndValues)
    {
        final Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2)
        {
            m.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return StringByteIterator.getByteIteratorMap(m);
    }

    private static Map<String, String> read(final RedisHashClient c, final String key, final Set<String> names)
    {
        final Map<String, ByteIterator> out = new HashMap<>();
        assertEquals(Status.OK, c.read(TABLE, key, names, out));
        return StringByteIterator.getStringMap(out);
    }

    @Test
    void insertReadUpdateDeleteAnswerYcsbsStatuses() throws DBException
    {
        final RedisHashClient c = client(props());
        assertEquals(Status.OK, c.insert(TABLE, "r1", fields("field0", "a", "field1", "bb")));
        assertEquals(Map.of("field0", "a", "field1", "bb"), read(c, "r1", null));
        assertEquals(Map.of("field1", "bb"), read(c, "r1", Set.of("field1", "nosuchfield")));
        assertEquals(Status.OK, c.update(TABLE, "r1", fields("field1", "BB")));
        assertEquals(Map.of("field0", "a", "field1", "BB"), read(c, "r1", null));
        assertEquals(Status.OK, c.delete(TABLE, "r1"));
        assertEquals(Status.NOT_FOUND, c.delete(TABLE, "r1"));
        assertEquals(Status.NOT_FOUND, c.read(TABLE, "r1", null, new HashMap<>()));
        assertEquals(Status.NOT_FOUND, c.read(TABLE, "r1", Set.of("field0"), new HashMap<>()));
        assertEquals("NOT_IMPLEMENTED", c.scan(TABLE, "r1", 5, null, new Vector<>()).getName());
    }

    @Test
    void aReadOfOnlyMissingFieldsOfAnExistingRecordIsOkAndEmpty() throws DBException
    {
        final RedisHashClient c = client(props());
        c.insert(TABLE, "r2", fields("field0", "a"));
        assertEquals(Map.of(), read(c, "r2", Set.of("other")));
    }

    @Test
    void threadsShareOnePoolThatTheLastCleanupCloses() throws DBException
    {
        final RedisHashClient a = client(props());
        final RedisHashClient b = client(props());
        assertEquals(2, RedisHashClient.poolReferences());
        a.insert(TABLE, "r3", fields("field0", "x"));
        a.cleanup();
        clients.remove(a);
        assertEquals(Map.of("field0", "x"), read(b, "r3", null));
        b.cleanup();
        clients.remove(b);
        assertEquals(0, RedisHashClient.poolReferences());
    }

    @Test
    void anUnreachableServerFailsInitClearly() throws IOException
    {
        final Properties p = props();
        try (ServerSocket s = new ServerSocket(0))
        {
            p.setProperty(RedisHashClient.PORT, Integer.toString(s.getLocalPort()));
        }
        final RedisHashClient c = new RedisHashClient();
        c.setProperties(p);
        final DBException e = assertThrows(DBException.class, c::init);
        assertTrue(e.getMessage().contains("cannot reach Redis at 127.0.0.1:"), e.getMessage());
        assertEquals(0, RedisHashClient.poolReferences());
    }

    @Test
    void ycsbLoadAndRunPassTheDataIntegrityCheck()
    {
        final Properties props = YcsbArgs.parse(List.of("-P", "workloads/workloada", "-p", "recordcount=200",
            "-p", "operationcount=400", "-p", "dataintegrity=true", "-p", "fieldlengthdistribution=constant",
            "-threads", "4", "-db", RedisHashClient.class.getName(), "-p", RedisHashClient.PORT + "=" + port));
        final PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        for (final boolean run : new boolean[] {false, true})
        {
            props.setProperty(YcsbArgs.TRANSACTIONS, Boolean.toString(run));
            final YcsbPhase.Result r = YcsbPhase.run(props, quiet, quiet);
            assertEquals(List.of(), r.failures());
            final YcsbReport report = r.report();
            if (run)
            {
                assertEquals(report.returns("READ", "OK"), report.returns("VERIFY", "OK"));
                assertEquals(400, report.returns("READ", "OK") + report.returns("UPDATE", "OK"));
            }
            else
            {
                assertEquals(200, report.returns("INSERT", "OK"));
            }
        }
    }
}
