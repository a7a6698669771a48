package io.dmkv.rdma.transport.rdma;

import java.io.IOException;
import java.util.function.Consumer;

import com.ibm.disni.RdmaEndpoint;
import com.ibm.disni.RdmaEndpointGroup;
import com.ibm.disni.verbs.RdmaCmEvent;
import com.ibm.disni.verbs.RdmaCmId;

/**
 * A DiSNI endpoint that notices connection-manager failures. DiSNI 2.1's
 * {@code RdmaEndpoint.connect} and {@code accept} wait for the next state with no way out when
 * rdma_cm reports an error instead (ADDR_ERROR, ROUTE_ERROR, UNREACHABLE, REJECTED, ...): they
 * would hang forever. This endpoint records the failure and interrupts the thread waiting on it,
 * whose {@code wait()} then throws; the connector's own timeout covers events that never come.
 */
final class RdmaVerbsEndpoint extends RdmaEndpoint
{
    private static final int ESTABLISHED = RdmaCmEvent.EventType.RDMA_CM_EVENT_ESTABLISHED.ordinal();
    private static final int DISCONNECTED = RdmaCmEvent.EventType.RDMA_CM_EVENT_DISCONNECTED.ordinal();

    private volatile Thread waiter;
    private volatile String failure;
    private volatile Consumer<RdmaVerbsEndpoint> onDisconnect;

    RdmaVerbsEndpoint(final RdmaEndpointGroup<? extends RdmaEndpoint> group, final RdmaCmId id,
        final boolean serverSide) throws IOException
    {
        super(group, id, serverSide);
    }

    /** The thread to interrupt if rdma_cm reports a failure while it waits for this endpoint. */
    void waiter(final Thread thread)
    {
        waiter = thread;
    }

    /** Called (on DiSNI's connection-manager thread) when the peer disconnects. */
    void onDisconnect(final Consumer<RdmaVerbsEndpoint> listener)
    {
        onDisconnect = listener;
    }

    /** The rdma_cm event that failed this endpoint, or null. */
    String failure()
    {
        return failure;
    }

    @Override
    public synchronized void dispatchCmEvent(final RdmaCmEvent event) throws IOException
    {
        final int type = event.getEvent();
        try
        {
            super.dispatchCmEvent(event);
        }
        finally
        {
            if (type == ESTABLISHED)
            {
                waiter = null;
            }
            else if (isFailure(type))
            {
                failure = eventName(type) + " (status " + event.getStatus() + ")";
                final Thread t = waiter;
                if (t != null)
                {
                    t.interrupt();
                }
            }
            if (type == DISCONNECTED)
            {
                final Consumer<RdmaVerbsEndpoint> listener = onDisconnect;
                if (listener != null)
                {
                    listener.accept(this);
                }
            }
        }
    }

    static boolean isFailure(final int type)
    {
        return type == RdmaCmEvent.EventType.RDMA_CM_EVENT_ADDR_ERROR.ordinal()
            || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_ROUTE_ERROR.ordinal()
            || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_CONNECT_ERROR.ordinal()
            || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_UNREACHABLE.ordinal()
            || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_REJECTED.ordinal()
            || type == RdmaCmEvent.EventType.RDMA_CM_EVENT_DEVICE_REMOVAL.ordinal()
            || type == DISCONNECTED;
    }

    static String eventName(final int type)
    {
        final RdmaCmEvent.EventType[] types = RdmaCmEvent.EventType.values();
        return type >= 0 && type < types.length ? types[type].name() : "rdma_cm event " + type;
    }
}
