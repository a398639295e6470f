package io.reflex.dataplane.dpdk;

import static org.assertj.core.api.Assertions.assertThat;

import io.reflex.protocol.Status;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The at-most-once table against a model: a client's last WINDOW recorded SETs are found, older ones are not. */
class ClientTableProperties {
    record Op(int client, long handle, boolean forget) {}

    @Property(tries = 30)
    void remembersExactlyTheLastWindowOfWritesPerClient(@ForAll("ops") List<Op> ops) {
        ClientTable table = new ClientTable(4);
        Map<Integer, ArrayDeque<Long>> model = new HashMap<>();
        int[] clients = new int[3];
        for (int c = 0; c < 3; c++) clients[c] = table.lookupOrAdd(ClientTable.key(c + 1, 1000, 5000), c);
        for (Op op : ops) {
            int ci = clients[op.client()];
            ArrayDeque<Long> window = model.computeIfAbsent(op.client(), k -> new ArrayDeque<>());
            int found = table.findWrite(ci, op.handle());
            assertThat(found >= 0).as("handle %d of client %d", op.handle(), op.client()).isEqualTo(window.contains(op.handle()));
            if (found < 0) {
                int pos = table.recordWrite(ci, op.handle());
                window.addLast(op.handle());
                // one ring position per record, forgotten or not: the oldest position goes
                while (window.size() > ClientTable.WINDOW) window.removeFirst();
                if (op.forget()) {
                    table.forgetWrite(ci, table.generation(ci), pos, op.handle());
                    window.removeLast();
                    window.addLast(-1L); // its ring position stays used until the ring comes round
                } else {
                    table.completeWrite(ci, table.generation(ci), pos, op.handle(), Status.OK);
                    assertThat(table.inProgress(ci, pos)).isFalse();
                }
            }
        }
        for (int c = 0; c < 3; c++) {
            for (long h = 0; h < 3000; h++) {
                assertThat(table.findWrite(clients[c], h) >= 0).isEqualTo(model.getOrDefault(c, new ArrayDeque<>()).contains(h));
            }
        }
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = net.jqwik.api.Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.longs().between(0, 2999), Arbitraries.integers().between(0, 9).map(i -> i == 0)).as(Op::new);
        return op.list().ofMinSize(100).ofMaxSize(4000);
    }

    @Example
    void aNewClientBeyondCapacityEvictsTheLeastRecentlySeen() {
        ClientTable table = new ClientTable(2);
        int a = table.lookupOrAdd(ClientTable.key(1, 1, 1), 10);
        int b = table.lookupOrAdd(ClientTable.key(2, 1, 1), 20);
        table.recordWrite(a, 77);
        table.recordWrite(b, 88);
        assertThat(table.lookupOrAdd(ClientTable.key(1, 1, 1), 30)).isEqualTo(a); // a seen again, b is now the oldest
        int c = table.lookupOrAdd(ClientTable.key(3, 1, 1), 40);
        assertThat(c).isEqualTo(b);
        assertThat(table.evictions()).isEqualTo(1);
        assertThat(table.findWrite(c, 88)).isEqualTo(-1); // the evicted client's window is gone with it
        assertThat(table.findWrite(a, 77)).isGreaterThanOrEqualTo(0);
        assertThat(table.lookupOrAdd(ClientTable.key(1, 1, 1), 50)).isEqualTo(a);
        assertThat(table.lookupOrAdd(ClientTable.key(3, 1, 1), 60)).isEqualTo(c);
    }

    @Example
    void aCompletedWriteIsNotUpdatedByAStaleCompletion() {
        ClientTable table = new ClientTable(1);
        int a = table.lookupOrAdd(ClientTable.key(1, 1, 1), 0);
        int gen = table.generation(a);
        int pos = table.recordWrite(a, 5);
        table.lookupOrAdd(ClientTable.key(2, 1, 1), 1); // evicts a: new generation in that entry
        table.completeWrite(a, gen, pos, 5, Status.EIO);
        assertThat(table.findWrite(a, 5)).isEqualTo(-1);
    }
}
