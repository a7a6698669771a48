package io.dmkv.computenode.recovery;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * The block allocation tables of every region as the primaries hold them (the truth: backups
 * are mirrors that a crash may leave behind), read in one batch: who owns which block, and
 * which block an object address falls in.
 */
public final class BlockTableScan
{
    /** One block of the table: where it is and its entry. */
    public record Block(int region, int blockIndex, long entry)
    {
        public long key()
        {
            return ((long)region << 32) | (blockIndex & 0xFFFF_FFFFL);
        }
    }

    private final ClusterView view;
    private final int blockSize;
    private final List<Block> blocks;

    private BlockTableScan(final ClusterView view, final List<Block> blocks)
    {
        this.view = view;
        this.blockSize = view.descriptor().blockSize();
        this.blocks = blocks;
    }

    /** Reads every region's table from its primary. */
    public static BlockTableScan read(final ClusterView view, final VerbsClient client)
    {
        final VerbBatch b = new VerbBatch();
        final int regions = view.regions();
        final UnsafeBuffer[] tables = new UnsafeBuffer[regions];
        for (int g = 0; g < regions; g++)
        {
            final int length = Math.max(8, RegionLayout.batLength(view.blockCount(g)));
            tables[g] = new UnsafeBuffer(new byte[length]);
            view.read(b, GlobalAddress.pack(g, view.batOffset(g)), 0, tables[g], 0, length);
        }
        client.execute(b);
        final List<Block> out = new ArrayList<>();
        for (int g = 0; g < regions; g++)
        {
            for (int i = 0; i < view.blockCount(g); i++)
            {
                out.add(new Block(g, i, BlockAllocationTable.entry(tables[g], 0, i)));
            }
        }
        return new BlockTableScan(view, out);
    }

    /** Blocks in state OWNED by {@code clientId}. */
    public List<Block> ownedBy(final int clientId)
    {
        final List<Block> out = new ArrayList<>();
        for (final Block b : blocks)
        {
            if (BlockAllocationTable.state(b.entry()) == BlockAllocationTable.OWNED
                && BlockAllocationTable.owner(b.entry()) == clientId)
            {
                out.add(b);
            }
        }
        return out;
    }

    /** Blocks held (OWNED) per client id, in id order. */
    public Map<Integer, Integer> ownedPerClient()
    {
        final Map<Integer, Integer> out = new TreeMap<>();
        for (final Block b : blocks)
        {
            if (BlockAllocationTable.state(b.entry()) == BlockAllocationTable.OWNED)
            {
                out.merge(BlockAllocationTable.owner(b.entry()), 1, Integer::sum);
            }
        }
        return out;
    }

    /** Blocks in {@code state} ({@link BlockAllocationTable#FREE}, OWNED or HANDED_OVER). */
    public int count(final int state)
    {
        int n = 0;
        for (final Block b : blocks)
        {
            n += BlockAllocationTable.state(b.entry()) == state ? 1 : 0;
        }
        return n;
    }

    public List<Block> blocks()
    {
        return blocks;
    }

    /** Offset in its region of a block. */
    public int blockOffset(final Block b)
    {
        return RegionLayout.blockOffset(view.firstBlockOffset(b.region()), blockSize, b.blockIndex());
    }

    /** Offset in region {@code g} of the table entry of block {@code blockIndex}. */
    public int entryOffset(final int g, final int blockIndex)
    {
        return view.batOffset(g) + BlockAllocationTable.entryOffset(blockIndex);
    }

    /**
     * The key ({@link Block#key()}) of the block holding {@code address}, or -1 if the address is
     * outside every block.
     */
    public long blockKeyOf(final long address)
    {
        final int g = GlobalAddress.regionId(address);
        if (g < 0 || g >= view.regions())
        {
            return -1;
        }
        final int i = RegionLayout.blockIndexOf(view.firstBlockOffset(g), blockSize, view.blockCount(g),
            GlobalAddress.offset(address));
        return i < 0 ? -1 : ((long)g << 32) | i;
    }

    /** Map from block key to index in {@code list}, for membership tests. */
    public static Long2LongHashMap index(final List<Block> list)
    {
        final Long2LongHashMap out = new Long2LongHashMap(-1);
        for (int i = 0; i < list.size(); i++)
        {
            out.put(list.get(i).key(), i);
        }
        return out;
    }
}
