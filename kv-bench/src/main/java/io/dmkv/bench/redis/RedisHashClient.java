package io.dmkv.bench.redis;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.Vector;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.bench.ycsb.FailureLog;
import io.dmkv.bench.ycsb.SharedResource;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.exceptions.JedisConnectionException;
import site.ycsb.ByteArrayByteIterator;
import site.ycsb.ByteIterator;
import site.ycsb.DB;
import site.ycsb.DBException;
import site.ycsb.Status;

/**
 * YCSB binding of Redis, to run the same workloads side by side with dmkv ({@code scripts/compare
 * redis}): {@code -db io.dmkv.bench.redis.RedisHashClient}. YCSB's own Redis binding is not on
 * Maven Central, hence this small one on Jedis.
 * <p>
 * A record is a Redis hash under the record's key (the table name is not part of it): insert
 * and update are one {@code HSET} of the given fields, read is {@code HGETALL} (all fields) or
 * {@code HMGET} (a subset), delete is {@code DEL}. As in YCSB's Redis binding, an update of a
 * key without a record creates one; read and delete answer NOT_FOUND for such keys. scan
 * answers NOT_IMPLEMENTED (no sorted-set index is kept, so inserts stay one command).
 * <p>
 * Properties: {@code redis.host} (default 127.0.0.1), {@code redis.port} (6379),
 * {@code redis.password} (none), {@code redis.timeout} (milliseconds, 2000). The YCSB threads of
 * one JVM share one {@link JedisPool} of at least {@code threadcount} connections, opened by the
 * first {@link #init()} and closed by the last {@link #cleanup()}.
 */
public final class RedisHashClient extends DB
{
    public static final String HOST = "redis.host";
    public static final String PORT = "redis.port";
    public static final String PASSWORD = "redis.password";
    public static final String TIMEOUT = "redis.timeout";

    private static final Logger LOG = LoggerFactory.getLogger(RedisHashClient.class);
    private static final SharedResource<JedisPool> POOL = new SharedResource<>("Redis connection pool");
    private static final FailureLog FAILURES = new FailureLog(LOG, 10);
    private static final AtomicBoolean SCAN_REPORTED = new AtomicBoolean();
    private static final Status SCAN_UNSUPPORTED = new Status("NOT_IMPLEMENTED",
        "this Redis binding keeps no key order (no sorted-set index): it cannot scan");

    private JedisPool pool;

    @Override
    public void init() throws DBException
    {
        final Properties p = getProperties();
        final String host = p.getProperty(HOST, "127.0.0.1");
        final int port = integer(p, PORT, 6379);
        final int timeout = integer(p, TIMEOUT, 2000);
        final String password = p.getProperty(PASSWORD);
        final int connections = Math.max(8, integer(p, "threadcount", 1));
        final Map<String, String> settings = new HashMap<>();
        settings.put(HOST, host);
        settings.put(PORT, Integer.toString(port));
        settings.put(TIMEOUT, Integer.toString(timeout));
        settings.put(PASSWORD, password == null ? "" : password);
        settings.put("connections", Integer.toString(connections));
        try
        {
            pool = POOL.acquire(settings, () -> open(host, port, timeout, password, connections));
        }
        catch (final IllegalStateException e)
        {
            throw new DBException("redis: " + e.getMessage(), e);
        }
        catch (final Exception e)
        {
            throw new DBException("redis: cannot reach Redis at " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    private static JedisPool open(final String host, final int port, final int timeout, final String password,
        final int connections)
    {
        final GenericObjectPoolConfig<Jedis> config = new GenericObjectPoolConfig<>();
        config.setMaxTotal(connections);
        config.setMaxIdle(connections);
        config.setJmxEnabled(false);
        final JedisPool pool = new JedisPool(config, host, port, timeout, password);
        try (Jedis j = pool.getResource())
        {
            j.ping();
        }
        catch (final RuntimeException e)
        {
            pool.close();
            throw e;
        }
        return pool;
    }

    @Override
    public void cleanup() throws DBException
    {
        if (pool != null)
        {
            pool = null;
            try
            {
                POOL.release();
            }
            catch (final Exception e)
            {
                throw new DBException("redis: closing the pool failed: " + e.getMessage(), e);
            }
            if (POOL.references() == 0)
            {
                FAILURES.logSummary("redis binding");
            }
        }
    }

    /** Holders of the shared pool (0: none open). */
    public static int poolReferences()
    {
        return POOL.references();
    }

    @Override
    public Status read(final String table, final String key, final Set<String> fields,
        final Map<String, ByteIterator> result)
    {
        try (Jedis j = pool.getResource())
        {
            if (fields == null)
            {
                final Map<byte[], byte[]> all = j.hgetAll(bytes(key));
                if (all.isEmpty())
                {
                    return Status.NOT_FOUND;
                }
                all.forEach((name, value) -> result.put(string(name), new ByteArrayByteIterator(value)));
                return Status.OK;
            }
            final byte[][] names = new byte[fields.size()][];
            int i = 0;
            for (final String f : fields)
            {
                names[i++] = bytes(f);
            }
            final List<byte[]> values = j.hmget(bytes(key), names);
            boolean any = false;
            final Iterator<String> name = fields.iterator();
            for (final byte[] v : values)
            {
                final String n = name.next();
                if (v != null)
                {
                    result.put(n, new ByteArrayByteIterator(v));
                    any = true;
                }
            }
            // HMGET cannot tell a missing key from missing fields; ask only in that rare case.
            return any || j.exists(bytes(key)) ? Status.OK : Status.NOT_FOUND;
        }
        catch (final RuntimeException e)
        {
            return failed("read", key, e);
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
        return write("insert", key, values);
    }

    @Override
    public Status update(final String table, final String key, final Map<String, ByteIterator> values)
    {
        return write("update", key, values);
    }

    @Override
    public Status delete(final String table, final String key)
    {
        try (Jedis j = pool.getResource())
        {
            return j.del(bytes(key)) > 0 ? Status.OK : Status.NOT_FOUND;
        }
        catch (final RuntimeException e)
        {
            return failed("delete", key, e);
        }
    }

    private Status write(final String op, final String key, final Map<String, ByteIterator> values)
    {
        final Map<byte[], byte[]> hash = new HashMap<>(values.size() * 2);
        values.forEach((name, value) -> hash.put(bytes(name), value.toArray()));
        try (Jedis j = pool.getResource())
        {
            j.hset(bytes(key), hash);
            return Status.OK;
        }
        catch (final RuntimeException e)
        {
            return failed(op, key, e);
        }
    }

    private static Status failed(final String op, final String key, final RuntimeException e)
    {
        FAILURES.failed(op, key, e);
        return e instanceof JedisConnectionException ? Status.SERVICE_UNAVAILABLE : Status.ERROR;
    }

    private static byte[] bytes(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(final byte[] b)
    {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static int integer(final Properties p, final String name, final int dflt) throws DBException
    {
        final String v = p.getProperty(name);
        try
        {
            return v == null ? dflt : Integer.parseInt(v.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new DBException(name + " must be a whole number, got '" + v + "'");
        }
    }
}
