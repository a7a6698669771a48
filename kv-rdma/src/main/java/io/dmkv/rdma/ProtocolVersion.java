package io.dmkv.rdma;

/**
 * Versions exchanged by the hello on every connection. The protocol version covers the frame
 * formats of the verbs layer; the layout version is chosen by the layers above (the on-memory
 * layouts of kv-core) and checked here so a client never works on memory laid out differently.
 */
public final class ProtocolVersion
{
    /** Magic at the start of every hello: "DMKV". */
    public static final int MAGIC = 0x444D4B56;
    /** 2: the hello authenticates (nonces and proofs) and the node's answers start with the magic. */
    public static final int PROTOCOL = 2;
    /** Default layout version when the layers above do not set one. */
    public static final int DEFAULT_LAYOUT = 1;

    private ProtocolVersion()
    {
    }
}
