package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.junit.jupiter.api.extension.ExtendWith;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.fuzz.FuzzRotation;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;

/**
 * A hostile client's FORMAT_REGION and ALLOC_BLOCK requests against a fresh memory node of two
 * small regions: each request is answered or refused with an {@link RpcException} that says why
 * (never another exception, which would reach the client only as "RPC failed"); a region a
 * FORMAT_REGION accepted has a header a client accepts; a block ALLOC_BLOCK gives out exists.
 *
 * <p>Input: requests, each {@code method:u8 length:u8 payload} (method 0 is FORMAT_REGION, any
 * other ALLOC_BLOCK).
 */
@ExtendWith(FuzzRotation.class)
class MemoryNodeRpcFuzzTest
{
    private static final int REGION = 64 << 10;

    @FuzzTest
    void requests(final byte[] input)
    {
        try (MemoryNodeService service = new MemoryNodeService("fuzz", RegionTable.allocate(2 * REGION, REGION),
            ProtocolVersion.DEFAULT_LAYOUT))
        {
            final RegionFormatter formatter = new RegionFormatter(service);
            final BlockAllocatorService allocator = new BlockAllocatorService(service);
            int at = 0;
            while (at + 2 <= input.length)
            {
                final boolean format = input[at] % 2 == 0;
                final int length = Math.min(input[at + 1] & 0xFF, input.length - at - 2);
                final ByteBuffer request = ByteBuffer.wrap(Arrays.copyOfRange(input, at + 2, at + 2 + length));
                at += 2 + length;
                try
                {
                    if (format)
                    {
                        formatted(service, request.duplicate(), formatter.handle(request));
                    }
                    else
                    {
                        allocated(service, request.duplicate(), allocator.handle(request));
                    }
                }
                catch (final RpcException refused)
                {
                    assertTrue(refused.status() != RpcStatus.OK, "refused with status OK");
                    assertTrue(refused.getMessage() != null && !refused.getMessage().isBlank(), "refused without a word");
                }
            }
        }
    }

    private static void formatted(final MemoryNodeService service, final ByteBuffer request, final ByteBuffer response)
    {
        final MemoryNodeRpc.FormatRegion f = MemoryNodeRpc.FormatRegion.decode(request);
        assertEquals(4, response.remaining(), "FORMAT_REGION answers blockCount:u32");
        final var header = service.regions().regions().get(f.physicalRegion()).buffer();
        RegionLayout.validateHeader(header, RegionLayout.regionId(header));
        assertEquals(RegionLayout.blockCount(header), response.getInt());
    }

    private static void allocated(final MemoryNodeService service, final ByteBuffer request, final ByteBuffer response)
    {
        final MemoryNodeRpc.AllocBlock a = MemoryNodeRpc.AllocBlock.decode(request);
        assertEquals(BlockAllocatorService.RESPONSE_LENGTH, response.remaining());
        final int block = response.getInt();
        final long entry = response.getLong();
        final var header = service.regions().regions().get(a.physicalRegion()).buffer();
        assertTrue(block >= 0 && block < RegionLayout.blockCount(header), "block " + block + " does not exist");
        assertEquals(a.clientId(), BlockAllocationTable.owner(entry));
        assertEquals(a.sizeClass(), BlockAllocationTable.sizeClass(entry));
    }
}
