package io.dmkv.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** Which of a layout's memory nodes are dead: not alive, or alive as another incarnation (a restart). */
class ClusterLayoutDeadNodesTest
{
    @Test
    void aNodeIsDeadWhenItsSessionIsGoneOrAnotherIncarnationHoldsItsName()
    {
        final ClusterLayout layout = new ClusterLayout(List.of("a", "b", "c"),
            Map.of(ClusterLayout.INCARNATIONS, ClusterLayout.incarnationsField(List.of(0x11L, 0x22L, 0x33L))));
        final ClusterLayout decoded = ClusterLayout.decode(layout.encode());
        assertEquals(List.of(0x11L, 0x22L, 0x33L), decoded.incarnations());
        final List<MemberInfo> alive = List.of(MemberInfo.memoryNode("a", "127.0.0.1:1", List.of(), 0, 0x11L),
            MemberInfo.memoryNode("c", "127.0.0.1:3", List.of(), 0, 0x99L));
        assertEquals(Set.of(1, 2), ClusterLayout.deadNodes(decoded.memoryNodes(), decoded.incarnations(), alive));
    }

    @Test
    void aLayoutWithoutIncarnationsJudgesBySessionsAlone()
    {
        final ClusterLayout layout = new ClusterLayout(List.of("a", "b"), Map.of());
        assertEquals(List.of(0L, 0L), layout.incarnations());
        assertEquals(Set.of(1), ClusterLayout.deadNodes(layout.memoryNodes(), layout.incarnations(),
            List.of(MemberInfo.memoryNode("a", "127.0.0.1:1", List.of(), 0, 0x42L))));
    }
}
