package io.dmkv.rdma.contract;

/** The verbs contract on the localSharedFile fixture. */
class LocalSharedFileContractTest extends VerbsContractTest
{
    @Override
    protected TransportFixture createFixture()
    {
        return Fixtures.localSharedFile();
    }
}
