package io.dmkv.rdma;

import java.time.Duration;
import java.util.Objects;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.TlsConfig;

/**
 * How a client talks to memory nodes. Immutable; build with {@link #builder()}.
 *
 * @param requestTimeout  how long a batch or RPC may take before it fails with {@link VerbsTimeoutException}.
 * @param connectTimeout  how long connecting plus the hello may take.
 * @param layoutVersion   layout version to agree on in the hello.
 * @param secret          the cluster secret to prove in the hello, and to require the node to
 *                        prove (null: none; such a client reaches only nodes without one).
 * @param tls             TLS for tcp connections (null: plain tcp).
 * @param clock           source of time for timeouts (tests inject a manual clock).
 */
public record ClientOptions(Duration requestTimeout, Duration connectTimeout, int layoutVersion,
    ClusterSecret secret, TlsConfig tls, NanoClock clock)
{
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

    public ClientOptions
    {
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(clock, "clock");
        if (requestTimeout.isNegative() || requestTimeout.isZero())
        {
            throw new IllegalArgumentException("requestTimeout must be positive: " + requestTimeout);
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero())
        {
            throw new IllegalArgumentException("connectTimeout must be positive: " + connectTimeout);
        }
    }

    public static ClientOptions defaults()
    {
        return builder().build();
    }

    public static Builder builder()
    {
        return new Builder();
    }

    public long requestTimeoutNs()
    {
        return requestTimeout.toNanos();
    }

    /** Builder with the defaults above. */
    public static final class Builder
    {
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private int layoutVersion = ProtocolVersion.DEFAULT_LAYOUT;
        private ClusterSecret secret;
        private TlsConfig tls;
        private NanoClock clock = SystemNanoClock.INSTANCE;

        public Builder requestTimeout(final Duration d)
        {
            requestTimeout = d;
            return this;
        }

        public Builder connectTimeout(final Duration d)
        {
            connectTimeout = d;
            return this;
        }

        public Builder layoutVersion(final int v)
        {
            layoutVersion = v;
            return this;
        }

        public Builder secret(final ClusterSecret s)
        {
            secret = s;
            return this;
        }

        public Builder tls(final TlsConfig t)
        {
            tls = t;
            return this;
        }

        public Builder clock(final NanoClock c)
        {
            clock = c;
            return this;
        }

        public ClientOptions build()
        {
            return new ClientOptions(requestTimeout, connectTimeout, layoutVersion, secret, tls, clock);
        }
    }
}
