package io.dmkv.computenode.proxy;

import java.util.concurrent.CompletableFuture;

import io.dmkv.computenode.ops.OpCompletion;
import io.dmkv.computenode.ops.ValueSink;
import io.dmkv.computenode.proxy.cache.ProxyClient;
import io.dmkv.rdma.ThreadCounters;

/**
 * A read of a partition another compute node proxies, through this node's coherent cache
 * (docs/flexkv.md §11): a value cached under a live lease from the partition's owner answers with
 * no round trip; otherwise a leased SEARCH leaves in the next batch frame to the owner, the
 * object is READ as in {@link ProxiedRead} (unless the owner's answer carries the value), and its
 * value is cached unless an invalidation of it arrived meanwhile. No thread hand-off; what would wait goes to {@code blocking}.
 */
final class CachedRead
{
    private CachedRead()
    {
    }

    /** Starts the read; false, having done nothing, when no connection to the owner is open. */
    static boolean start(final ProxiedOperation.Context ctx, final String endpoint, final String owner,
        final long epoch, final byte[] key, final long hash, final OpCompletion<byte[]> done,
        final ThreadCounters caller, final Runnable blocking)
    {
        final ProxyClient client = ctx.client();
        final byte[] hit = client.cached(key, hash, owner);
        if (hit != null)
        {
            // A caller that keeps the array must not change the cached one.
            ProxyClient.deliver(done, done instanceof ValueSink ? hit : hit.clone(), null);
            return true;
        }
        final CompletableFuture<ProxyClient.Lookup> lookup = client.lookup(endpoint, owner, epoch, key, hash);
        if (lookup == null)
        {
            return false;
        }
        caller.countRpc(ProxyRpc.SEARCH_HEADER + key.length);
        lookup.whenComplete((l, failure) ->
        {
            if (failure == null && l.reply().status() == ProxyRpc.NOT_FOUND)
            {
                done.complete(null, null);
            }
            else if (failure == null && l.reply().status() == ProxyRpc.FOUND && l.value() != null)
            {
                // The proxy sent the value its level 1 holds for the slot: no READ.
                ProxyClient.deliver(l.fill(done), l.value(), null);
            }
            else if (failure == null && l.reply().status() == ProxyRpc.FOUND)
            {
                ProxiedRead.start(ctx.view(), ctx.verbs(), key, l.reply().slot(), l.fill(done), caller, blocking);
            }
            else
            {
                blocking.run();
            }
        });
        return true;
    }
}
