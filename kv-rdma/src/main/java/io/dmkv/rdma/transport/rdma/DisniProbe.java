package io.dmkv.rdma.transport.rdma;

import java.io.IOException;

import com.ibm.disni.verbs.RdmaEventChannel;

/**
 * The one probe step that calls into DiSNI, kept apart from {@link RdmaSupport} so the probe class
 * itself loads (and reports) when the DiSNI jar is missing.
 */
final class DisniProbe
{
    private DisniProbe()
    {
    }

    /** Opens and closes an rdma_cm event channel; null on success, else what failed. */
    static String openEventChannel()
    {
        try
        {
            final RdmaEventChannel channel = RdmaEventChannel.createEventChannel();
            channel.destroyEventChannel();
            return null;
        }
        catch (final IOException | RuntimeException | LinkageError e)
        {
            final String message = e.getMessage();
            return message == null ? e.toString() : message.trim();
        }
    }
}
