package io.dmkv.bench.ycsb;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.InvalidInputException;
import io.dmkv.KvConfig;
import io.dmkv.KvException;
import io.dmkv.KvStore;
import io.dmkv.KvTimeoutException;
import io.dmkv.NodeUnreachableException;
import io.dmkv.StoreClosedException;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;

/**
 * YCSB binding of dmkv: {@code -db io.dmkv.bench.ycsb.DmkvClient}. A record is one dmkv value
 * ({@link FieldRecordCodec}) under the record's key; the table name is not part of the key (one
 * key space per cluster, as in YCSB's Redis binding).
 *
 * <h2>Properties</h2>
 * Every {@code dmkv.*} property except {@code dmkv.embedded.*} (read by {@link YcsbMain}) goes to
 * {@link KvConfig#fromProperties}: {@code dmkv.memnodes} or {@code dmkv.coordinator} (one is required), {@code dmkv.transport},
 * {@code dmkv.replication}, ... An unknown {@code dmkv.*} property fails {@link #init()}.
 * YCSB's {@code fieldcount} and {@code fieldnameprefix} say what a full record is (see update).
 *
 * <h2>Operations</h2>
 * <ul>
 *   <li><b>insert</b> is a put: it overwrites an existing record (so a load can be repeated), as
 *       YCSB's Redis binding does.</li>
 *   <li><b>read</b> returns the requested fields (all if none are named); NOT_FOUND if the key
 *       has no record.</li>
 *   <li><b>update</b> of all {@code fieldcount} fields (YCSB's {@code writeallfields=true})
 *       replaces the record with one dmkv update. An update of fewer fields is a
 *       read-modify-write (get, merge, update): it is <em>not atomic</em> against a concurrent
 *       update of the same key, and one of two racing updates of different fields may be lost.
 *       dmkv has no compare-and-set of values to make it atomic. NOT_FOUND if the key has no
 *       record.</li>
 *   <li><b>delete</b>: NOT_FOUND if the key had no record.</li>
 *   <li><b>scan</b> answers NOT_IMPLEMENTED: dmkv's index is a hash index (RACE), with no key
 *       order to scan in. YCSB's workload E needs scans and cannot run.</li>
 * </ul>
 * A failed operation answers BAD_REQUEST (a key over 1024 bytes, a record over a value's
 * 64,216 bytes), SERVICE_UNAVAILABLE (timeouts, unreachable memory nodes) or ERROR, and the
 * first few failures are logged with their cause; all are counted by operation and cause and
 * logged as one summary when the last client thread cleans up.
 * <p>
 * YCSB makes one instance per client thread. They share one {@link KvStore} per JVM, opened by
 * the first {@link #init()} and closed by the last {@link #cleanup()}.
 */
public final class DmkvClient extends DB
{
    /** Prefix of the properties this binding reads. */
    public static final String PREFIX = "dmkv.";
    /** Prefix of {@link YcsbMain}'s embedded-cluster properties, which are not the store's. */
    public static final String EMBEDDED_PREFIX = "dmkv.embedded.";

    private static final Logger LOG = LoggerFactory.getLogger(DmkvClient.class);
    private static final SharedResource<KvStore> STORE = new SharedResource<>("dmkv store");
    private static final FailureLog FAILURES = new FailureLog(LOG, 10);
    private static final AtomicBoolean SCAN_REPORTED = new AtomicBoolean();
    private static final Status SCAN_UNSUPPORTED = new Status("NOT_IMPLEMENTED",
        "dmkv's index is a hash index: it cannot scan keys in order (YCSB workload E needs scans)");

    private KvStore kv;
    private int fieldCount;
    private String fieldPrefix;

    @Override
    public void init() throws DBException
    {
        final Properties p = getProperties();
        try
        {
            fieldCount = Integer.parseInt(p.getProperty("fieldcount", "10").trim());
        }
        catch (final NumberFormatException e)
        {
            throw new DBException("fieldcount must be a whole number, got '" + p.getProperty("fieldcount") + "'");
        }
        fieldPrefix = p.getProperty("fieldnameprefix", "field");
        kv = acquireStore(p);
    }

    @Override
    public void cleanup() throws DBException
    {
        if (kv != null)
        {
            kv = null;
            releaseStore();
        }
    }

    /**
     * The JVM's shared store for {@code props}' {@code dmkv.*} settings, opening it if none is
     * open. Each call needs a {@link #releaseStore()}. {@link YcsbMain} holds one across its
     * load and run phases, so both use one store.
     *
     * @throws DBException with a message naming the bad setting or the unreachable node.
     */
    public static KvStore acquireStore(final Properties props) throws DBException
    {
        final Map<String, String> settings = storeSettings(props);
        try
        {
            return STORE.acquire(settings, () ->
            {
                final Properties p = new Properties();
                p.putAll(settings);
                return KvStore.open(KvConfig.fromProperties(p));
            });
        }
        catch (final KvException | IllegalStateException e)
        {
            throw new DBException("dmkv: " + e.getMessage(), e);
        }
        catch (final Exception e)
        {
            throw new DBException("dmkv: cannot open the store: " + e, e);
        }
    }

    /**
     * Drops one reference to the shared store; the last closes it and logs the failures counted
     * by cause ({@link #takeFailureSummary}) unless they were taken already.
     */
    public static void releaseStore() throws DBException
    {
        try
        {
            STORE.release();
        }
        catch (final Exception e)
        {
            throw new DBException("dmkv: closing the store failed: " + e.getMessage(), e);
        }
        if (STORE.references() == 0)
        {
            FAILURES.logSummary("dmkv binding");
        }
    }

    /**
     * The operations that failed since the last call, counted by operation and cause with an
     * example message each (empty when none failed); counting starts afresh.
     */
    public static List<String> takeFailureSummary()
    {
        return FAILURES.takeSummary();
    }

    /** Holders of the shared store (0: none open). */
    public static int storeReferences()
    {
        return STORE.references();
    }

    /** The {@code dmkv.*} properties of {@code props} that configure the store. */
    public static Map<String, String> storeSettings(final Properties props)
    {
        final Map<String, String> settings = new HashMap<>();
        for (final String name : props.stringPropertyNames())
        {
            if (name.startsWith(PREFIX) && !name.startsWith(EMBEDDED_PREFIX))
            {
                settings.put(name, props.getProperty(name));
            }
        }
        return settings;
    }

    @Override
    public Status read(final String table, final String key, final Set<String> fields,
        final Map<String, ByteIterator> result)
    {
        final byte[] record;
        try
        {
            record = kv.get(bytes(key));
        }
        catch (final RuntimeException e)
        {
            return failed("read", key, e);
        }
        if (record == null)
        {
            return Status.NOT_FOUND;
        }
        try
        {
            FieldRecordCodec.decode(record, fields, result);
            return Status.OK;
        }
        catch (final IllegalArgumentException e)
        {
            FAILURES.failed("read", key, e);
            return Status.UNEXPECTED_STATE;
        }
    }

    @Override
    public Status scan(final String table, final String startkey, final int recordcount, final Set<String> fields,
        final Vector<HashMap<String, ByteIterator>> result)
    {
        if (SCAN_REPORTED.compareAndSet(false, true))
        {
            LOG.warn("scan is not supported: {}", SCAN_UNSUPPORTED.getDescription());
        }
        return SCAN_UNSUPPORTED;
    }

    @Override
    public Status insert(final String table, final String key, final Map<String, ByteIterator> values)
    {
        try
        {
            kv.put(bytes(key), FieldRecordCodec.encode(FieldRecordCodec.toBytes(values)));
            return Status.OK;
        }
        catch (final RuntimeException e)
        {
            return failed("insert", key, e);
        }
    }

    @Override
    public Status update(final String table, final String key, final Map<String, ByteIterator> values)
    {
        try
        {
            final byte[] k = bytes(key);
            final Map<String, byte[]> fresh = FieldRecordCodec.toBytes(values);
            if (isFullRecord(fresh))
            {
                return kv.update(k, FieldRecordCodec.encode(fresh)) ? Status.OK : Status.NOT_FOUND;
            }
            final byte[] old = kv.get(k);
            if (old == null)
            {
                return Status.NOT_FOUND;
            }
            // update, not put: a record deleted since the get stays deleted.
            return kv.update(k, FieldRecordCodec.merge(old, fresh)) ? Status.OK : Status.NOT_FOUND;
        }
        catch (final RuntimeException e)
        {
            return failed("update", key, e);
        }
    }

    @Override
    public Status delete(final String table, final String key)
    {
        try
        {
            return kv.delete(bytes(key)) ? Status.OK : Status.NOT_FOUND;
        }
        catch (final RuntimeException e)
        {
            return failed("delete", key, e);
        }
    }

    /** True if {@code fields} are exactly the workload's fieldcount fields. */
    private boolean isFullRecord(final Map<String, byte[]> fields)
    {
        if (fields.size() != fieldCount)
        {
            return false;
        }
        for (int i = 0; i < fieldCount; i++)
        {
            if (!fields.containsKey(fieldPrefix + i))
            {
                return false;
            }
        }
        return true;
    }

    private static byte[] bytes(final String key)
    {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    /** YCSB's ClientThread exits the JVM on an exception, so every failure becomes a status. */
    private static Status failed(final String op, final String key, final RuntimeException e)
    {
        FAILURES.failed(op, key, e);
        if (e instanceof InvalidInputException || e instanceof IllegalArgumentException)
        {
            return Status.BAD_REQUEST;
        }
        if (e instanceof KvTimeoutException || e instanceof NodeUnreachableException
            || e instanceof StoreClosedException)
        {
            return Status.SERVICE_UNAVAILABLE;
        }
        return Status.ERROR;
    }
}
