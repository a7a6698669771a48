package io.dmkv.rdma.contract;

/** The verbs contract on the tcp fixture. */
class TcpContractTest extends VerbsContractTest
{
    @Override
    protected TransportFixture createFixture()
    {
        return Fixtures.tcp();
    }
}
