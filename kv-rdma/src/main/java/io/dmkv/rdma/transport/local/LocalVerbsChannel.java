package io.dmkv.rdma.transport.local;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.MemoryNodeInfo;
import io.dmkv.rdma.RegionInfo;
import io.dmkv.rdma.RemoteAccessException;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.Verb;
import io.dmkv.rdma.VerbRules;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbCounters;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.MemoryRegion;
import io.dmkv.rdma.server.RegionTable;
import io.dmkv.rdma.server.VerbExecutor;

/**
 * A local channel: verbs execute on the caller's thread against the memory node's memory (the
 * node's own table in this JVM, or this process's mapping of its shared file), so a batch
 * completes before {@link #submit} returns. Verbs of one caller are therefore trivially in order.
 * A READ the batch marks lendable is answered with the region's own memory instead of a copy
 * ({@link VerbBatch#readLendable}).
 */
final class LocalVerbsChannel implements VerbsChannel
{
    private final MemoryNodeInfo info;
    private final RegionTable table;
    private final List<RemoteRegion> regions;
    private final MemoryNodeService service;
    private final VerbsChannel control;
    private final VerbCounters counters = new VerbCounters();
    private volatile boolean open = true;

    private LocalVerbsChannel(final MemoryNodeInfo info, final RegionTable table, final MemoryNodeService service,
        final VerbsChannel control)
    {
        this.info = info;
        this.table = table;
        this.service = service;
        this.control = control;
        final List<RemoteRegion> list = new ArrayList<>(info.regions().size());
        for (final RegionInfo r : info.regions())
        {
            list.add(new RemoteRegion(this, r));
        }
        this.regions = List.copyOf(list);
    }

    static LocalVerbsChannel inProcess(final String endpoint, final MemoryNodeService service)
    {
        final MemoryNodeInfo info = new MemoryNodeInfo(service.name(), endpoint, service.layoutVersion(),
            service.regionInfos(), service.shmFile(), service.rdmaPort());
        return new LocalVerbsChannel(info, service.regions(), service, null);
    }

    static LocalVerbsChannel shared(final VerbsChannel control, final RegionTable mapped)
    {
        for (final RegionInfo r : control.node().regions())
        {
            if (mapped.lookup(r.id(), r.key()) == null)
            {
                control.close();
                throw new ConnectionException(control.node() + ": its shared memory file " + control.node().shmFile()
                    + " does not hold region " + r.id() + " with the key from the hello (stale file?)");
            }
        }
        return new LocalVerbsChannel(control.node(), mapped, null, control);
    }

    @Override
    public MemoryNodeInfo node()
    {
        return info;
    }

    @Override
    public List<RemoteRegion> regions()
    {
        return regions;
    }

    @Override
    public void submit(final VerbBatch batch, final int part)
    {
        if (!open)
        {
            batch.partCompleted(part, new ConnectionException("channel to " + info + " is closed"));
            return;
        }
        RemoteAccessException error = null;
        int executed = 0;
        for (int i = 0, n = batch.isEcho() ? 0 : batch.size(); i < n; i++)
        {
            if (batch.partOf(i) != part)
            {
                continue;
            }
            final RemoteRegion target = batch.region(i);
            final MemoryRegion region = table.lookup(target.id(), target.key());
            final byte op = batch.op(i);
            final long offset = batch.offset(i);
            final int length = batch.length(i);
            final RemoteAccessException.Reason refused = VerbExecutor.check(region, op, offset, length);
            if (refused != null)
            {
                error = new RemoteAccessException(refused, i,
                    VerbRules.describe(refused, info.toString(), target.id(), target.key(), op, offset, length));
                break;
            }
            switch (op)
            {
                case Verb.READ:
                    if (batch.lendable(i))
                    {
                        VerbExecutor.lend(region, offset, batch, i);
                    }
                    else
                    {
                        VerbExecutor.read(region, offset, batch.readBuffer(i), batch.bufferOffset(i), length);
                    }
                    break;
                case Verb.WRITE:
                    VerbExecutor.write(region, offset, batch.buffer(i), batch.bufferOffset(i), length);
                    break;
                case Verb.CAS:
                    batch.setResult(i, VerbExecutor.cas(region, offset, batch.operand(i), batch.swap(i)));
                    break;
                default:
                    batch.setResult(i, VerbExecutor.faa(region, offset, batch.operand(i)));
                    break;
            }
            executed++;
        }
        counters.part(batch.thread(), batch, part, executed);
        batch.partCompleted(part, error);
    }

    @Override
    public boolean completesInSubmit()
    {
        return true;
    }

    @Override
    public CompletableFuture<ByteBuffer> rpc(final int method, final ByteBuffer request)
    {
        if (!open)
        {
            return CompletableFuture.failedFuture(new ConnectionException("channel to " + info + " is closed"));
        }
        final ByteBuffer copy = ByteBuffer.allocate(request.remaining()).put(request.duplicate()).flip();
        final int requestBytes = copy.remaining();
        final CompletableFuture<ByteBuffer> response = control != null ? control.rpc(method, copy) : service.rpc(method, copy);
        return response.thenApply(r ->
        {
            counters.rpc(requestBytes, r.remaining());
            return r;
        });
    }

    @Override
    public VerbCounters counters()
    {
        return counters;
    }

    @Override
    public boolean isOpen()
    {
        return open;
    }

    @Override
    public void close()
    {
        open = false;
        if (control != null)
        {
            control.close();
            table.close();
        }
    }
}
