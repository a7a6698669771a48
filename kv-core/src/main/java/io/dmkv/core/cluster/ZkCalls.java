package io.dmkv.core.cluster;

import org.apache.zookeeper.KeeperException;

/** Turns Curator's checked exceptions into dmkv's unchecked ones, with what was being done. */
final class ZkCalls
{
    /** A ZooKeeper call. */
    @FunctionalInterface
    interface Call<T>
    {
        T run() throws Exception;
    }

    private ZkCalls()
    {
    }

    static <T> T call(final String what, final Call<T> call)
    {
        try
        {
            return call.run();
        }
        catch (final CoordinationException | IllegalArgumentException | IllegalStateException e)
        {
            throw e;
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new CoordinationException(what + ": interrupted", e);
        }
        catch (final KeeperException.ConnectionLossException | KeeperException.SessionExpiredException e)
        {
            throw new CoordinationException(what + ": the coordinator is unreachable (" + e.getMessage() + ")", e);
        }
        catch (final KeeperException.NoAuthException | KeeperException.AuthFailedException e)
        {
            throw new CoordinationException(what + ": the coordinator refused access (" + e.getMessage() + "): the"
                + " cluster's znodes need its secret; give this member the cluster's secret file (dmkv.secretFile,"
                + " --secret-file)", e);
        }
        catch (final Exception e)
        {
            throw new CoordinationException(what + ": " + e, e);
        }
    }
}
