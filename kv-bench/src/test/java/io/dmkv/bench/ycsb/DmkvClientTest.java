package io.dmkv.bench.ycsb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.Vector;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;
import site.ycsb.ByteIterator;
import site.ycsb.DBException;
import site.ycsb.Status;
import site.ycsb.StringByteIterator;

/** The binding against an embedded cluster: statuses, field subsets and the shared store. */
class DmkvClientTest
{
    private static final String TABLE = "usertable";

    private static EmbeddedCluster cluster;
    private final List<DmkvClient> clients = new ArrayList<>();

    @BeforeAll
    static void startMemoryNodes()
    {
        cluster = EmbeddedCluster.start(2, 128L << 20, "local");
    }

    @AfterAll
    static void stopMemoryNodes()
    {
        cluster.close();
    }

    @AfterEach
    void cleanUpClients() throws DBException
    {
        for (final DmkvClient c : clients)
        {
            c.cleanup();
        }
        assertEquals(0, DmkvClient.storeReferences(), "every init must be matched by its cleanup");
    }

    private Properties props()
    {
        final Properties p = new Properties();
        p.setProperty("dmkv.memnodes", String.join(",", cluster.endpoints()));
        p.setProperty("dmkv.transport", cluster.transport());
        p.setProperty("dmkv.replication", "2");
        p.setProperty("fieldcount", "3");
        p.setProperty("recordcount", "1000");
        return p;
    }

    private DmkvClient client(final Properties p) throws DBException
    {
        final DmkvClient c = new DmkvClient();
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

    private static Map<String, String> read(final DmkvClient c, final String key, final Set<String> names)
    {
        final Map<String, ByteIterator> out = new HashMap<>();
        assertEquals(Status.OK, c.read(TABLE, key, names, out));
        return StringByteIterator.getStringMap(out);
    }

    @Test
    void insertThenReadReturnsEveryField() throws DBException
    {
        final DmkvClient c = client(props());
        assertEquals(Status.OK, c.insert(TABLE, "user1", fields("field0", "a", "field1", "bb", "field2", "ccc")));
        assertEquals(Map.of("field0", "a", "field1", "bb", "field2", "ccc"), read(c, "user1", null));
    }

    @Test
    void readOfAFieldSubsetReturnsOnlyThoseFields() throws DBException
    {
        final DmkvClient c = client(props());
        c.insert(TABLE, "user2", fields("field0", "a", "field1", "bb", "field2", "ccc"));
        assertEquals(Map.of("field0", "a", "field2", "ccc"), read(c, "user2", Set.of("field0", "field2")));
        assertEquals(Map.of("field1", "bb"), read(c, "user2", Set.of("field1", "nosuchfield")));
    }

    @Test
    void readOfAMissingKeyIsNotFound() throws DBException
    {
        final DmkvClient c = client(props());
        final Map<String, ByteIterator> out = new HashMap<>();
        assertEquals(Status.NOT_FOUND, c.read(TABLE, "nobody", null, out));
        assertTrue(out.isEmpty());
    }

    @Test
    void insertOverwritesAnExistingRecord() throws DBException
    {
        final DmkvClient c = client(props());
        c.insert(TABLE, "user3", fields("field0", "old", "field1", "old"));
        assertEquals(Status.OK, c.insert(TABLE, "user3", fields("field0", "new")));
        assertEquals(Map.of("field0", "new"), read(c, "user3", null));
    }

    @Test
    void updateOfSomeFieldsMergesThemIntoTheRecord() throws DBException
    {
        final DmkvClient c = client(props());
        c.insert(TABLE, "user4", fields("field0", "a", "field1", "bb", "field2", "ccc"));
        assertEquals(Status.OK, c.update(TABLE, "user4", fields("field1", "BB", "extra", "x")));
        assertEquals(Map.of("field0", "a", "field1", "BB", "field2", "ccc", "extra", "x"), read(c, "user4", null));
    }

    @Test
    void updateOfEveryFieldReplacesTheRecord() throws DBException
    {
        final DmkvClient c = client(props());
        c.insert(TABLE, "user5", fields("field0", "a", "field1", "bb", "field2", "ccc", "other", "o"));
        assertEquals(Status.OK, c.update(TABLE, "user5", fields("field0", "A", "field1", "B", "field2", "C")));
        // fieldcount=3: all of the workload's fields, written as one dmkv update without a read.
        assertEquals(Map.of("field0", "A", "field1", "B", "field2", "C"), read(c, "user5", null));
    }

    @Test
    void updateOfAMissingKeyIsNotFoundAndCreatesNothing() throws DBException
    {
        final DmkvClient c = client(props());
        assertEquals(Status.NOT_FOUND, c.update(TABLE, "ghost1", fields("field0", "a")));
        assertEquals(Status.NOT_FOUND, c.update(TABLE, "ghost2", fields("field0", "a", "field1", "b", "field2", "c")));
        assertEquals(Status.NOT_FOUND, c.read(TABLE, "ghost1", null, new HashMap<>()));
        assertEquals(Status.NOT_FOUND, c.read(TABLE, "ghost2", null, new HashMap<>()));
    }

    @Test
    void deleteRemovesTheRecordOnceThenIsNotFound() throws DBException
    {
        final DmkvClient c = client(props());
        c.insert(TABLE, "user6", fields("field0", "a"));
        assertEquals(Status.OK, c.delete(TABLE, "user6"));
        assertEquals(Status.NOT_FOUND, c.delete(TABLE, "user6"));
        assertEquals(Status.NOT_FOUND, c.read(TABLE, "user6", null, new HashMap<>()));
    }

    @Test
    void scanIsNotImplementedAndSaysWhy() throws DBException
    {
        final DmkvClient c = client(props());
        final Vector<HashMap<String, ByteIterator>> out = new Vector<>();
        final Status s = c.scan(TABLE, "user1", 10, null, out);
        assertEquals("NOT_IMPLEMENTED", s.getName());
        assertTrue(s.getDescription().contains("hash index"), s.getDescription());
        assertTrue(out.isEmpty());
    }

    @Test
    void anOversizedKeyOrRecordIsABadRequest() throws DBException
    {
        final DmkvClient c = client(props());
        assertEquals(Status.BAD_REQUEST, c.insert(TABLE, "k".repeat(1025), fields("field0", "a")));
        assertEquals(Status.BAD_REQUEST, c.insert(TABLE, "big", fields("field0", "x".repeat(40_000),
            "field1", "y".repeat(40_000))));
        assertEquals(Status.NOT_FOUND, c.read(TABLE, "big", null, new HashMap<>()));
    }

    @Test
    void failuresAreCountedByOperationAndCauseBeyondTheFirstFewLogged() throws DBException
    {
        final DmkvClient c = client(props());
        DmkvClient.takeFailureSummary();
        for (int i = 0; i < 15; i++)
        {
            assertEquals(Status.BAD_REQUEST, c.insert(TABLE, "k".repeat(1025 + i), fields("field0", "a")));
        }
        putRaw("not-a-record", new byte[] {9, 9, 9});
        assertEquals(Status.UNEXPECTED_STATE, c.read(TABLE, "not-a-record", null, new HashMap<>()));
        assertEquals(Status.UNEXPECTED_STATE, c.read(TABLE, "not-a-record", null, new HashMap<>()));
        final List<String> summary = DmkvClient.takeFailureSummary();
        assertEquals(3, summary.size(), String.join("\n", summary));
        assertTrue(summary.get(0).contains("17 in all"), summary.get(0));
        assertTrue(summary.get(1).matches("\\s*insert\\s+15\\s+InvalidInputException: .*1024.*"), summary.get(1));
        assertTrue(summary.get(2).matches("\\s*read\\s+2\\s+IllegalArgumentException: .*"), summary.get(2));
        assertEquals(List.of(), DmkvClient.takeFailureSummary(), "taking the summary starts counting afresh");
    }

    @Test
    void aValueThatIsNotARecordIsAnUnexpectedState() throws DBException
    {
        final DmkvClient c = client(props());
        putRaw("raw", new byte[] {9, 9, 9});
        assertEquals(Status.UNEXPECTED_STATE, c.read(TABLE, "raw", null, new HashMap<>()));
    }

    /** Stores {@code value} under {@code key} directly, as something other than the binding would. */
    private void putRaw(final String key, final byte[] value) throws DBException
    {
        final KvStore kv = DmkvClient.acquireStore(props());
        try
        {
            kv.put(key.getBytes(StandardCharsets.UTF_8), value);
        }
        finally
        {
            DmkvClient.releaseStore();
        }
    }

    @Test
    void threadsShareOneStoreThatTheLastCleanupCloses() throws DBException
    {
        final DmkvClient a = client(props());
        final DmkvClient b = client(props());
        assertEquals(2, DmkvClient.storeReferences());
        final KvStore kv = DmkvClient.acquireStore(props());
        DmkvClient.releaseStore();
        assertEquals(Status.OK, a.insert(TABLE, "shared", fields("field0", "from a")));
        assertEquals(Map.of("field0", "from a"), read(b, "shared", null));

        a.cleanup();
        clients.remove(a);
        assertEquals(1, DmkvClient.storeReferences());
        assertFalse(kv.isClosed(), "the store stays open while a thread still uses it");
        assertEquals(Map.of("field0", "from a"), read(b, "shared", null));

        b.cleanup();
        clients.remove(b);
        assertEquals(0, DmkvClient.storeReferences());
        assertTrue(kv.isClosed(), "the last cleanup closes the store");

        final DmkvClient c = client(props());
        final KvStore reopened = DmkvClient.acquireStore(props());
        DmkvClient.releaseStore();
        assertNotNull(reopened);
        assertTrue(reopened != kv && !reopened.isClosed(), "a later init opens a fresh store");
        assertEquals(Map.of("field0", "from a"), read(c, "shared", null));
    }

    @Test
    void cleanupOfAClientTwiceDropsOneReference() throws DBException
    {
        final DmkvClient a = client(props());
        client(props());
        a.cleanup();
        a.cleanup();
        clients.remove(a);
        assertEquals(1, DmkvClient.storeReferences());
    }

    @Test
    void otherDmkvSettingsWhileTheStoreIsOpenAreRefused() throws DBException
    {
        client(props());
        final Properties other = props();
        other.setProperty("dmkv.opTimeout", "3s");
        final DmkvClient c = new DmkvClient();
        c.setProperties(other);
        final DBException e = assertThrows(DBException.class, c::init);
        assertTrue(e.getMessage().contains("same settings"), e.getMessage());
        assertEquals(1, DmkvClient.storeReferences());
    }

    @Test
    void nonDmkvPropertiesDoNotMatterForSharing() throws DBException
    {
        client(props());
        final Properties p = props();
        p.setProperty("operationcount", "5");
        p.setProperty("dmkv.embedded.nodes", "7");
        client(p);
        assertEquals(2, DmkvClient.storeReferences());
    }

    @Test
    void anUnknownDmkvPropertyFailsInitNamingIt()
    {
        final Properties p = props();
        p.setProperty("dmkv.replicaton", "2");
        final DmkvClient c = new DmkvClient();
        c.setProperties(p);
        final DBException e = assertThrows(DBException.class, c::init);
        assertTrue(e.getMessage().contains("dmkv.replicaton"), e.getMessage());
        assertEquals(0, DmkvClient.storeReferences());
    }

    @Test
    void missingMemnodesFailInitWithTheConfigMessage()
    {
        final Properties p = new Properties();
        final DmkvClient c = new DmkvClient();
        c.setProperties(p);
        final DBException e = assertThrows(DBException.class, c::init);
        assertTrue(e.getMessage().contains("dmkv.memnodes"), e.getMessage());
        assertEquals(0, DmkvClient.storeReferences());
    }
}
