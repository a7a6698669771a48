package io.dmkv.rdma;

/**
 * A way to reach memory nodes: {@code local}, {@code tcp} or {@code rdma}. A transport owns the
 * shared resources of its channels (event loops, timers) and closes them with itself.
 */
public interface VerbsTransport extends AutoCloseable
{
    /** The transport's name as used in configuration. */
    String name();

    /**
     * Connects to the memory node at {@code endpoint} and runs the hello.
     *
     * @param endpoint {@code host:port}, or {@code mem:NAME} for a memory node in this JVM (local).
     * @throws ConnectionException if the node cannot be reached in the connect timeout.
     * @throws HandshakeException  if the hello is refused.
     */
    VerbsChannel connect(String endpoint, ClientOptions options);

    @Override
    void close();
}
