"""Test helpers shipped with lapor-bridge, for the authors of connectors.

``bridge.testing.contract`` is the connector contract suite: the behaviour the engine relies on,
whatever the transport. Run it against your connector by subclassing it in your own tests
(it needs pytest; see ``docs/connectors.md``)::

    # tests/test_contract_wadesk.py
    from bridge.connector import Connector, NativeRecord
    from bridge.testing.contract import ConnectorContract, closed_port_url

    from lapor_bridge_wadesk import WaDeskConnector, WaDeskSettings


    class TestWaDeskContract(ConnectorContract):
        def make_connector(self) -> Connector:  # an empty remote; pages of page_size records
            return WaDeskConnector("desk", WaDeskSettings(type="wadesk", page_size=self.page_size))

        def sample_record(self, n: int) -> NativeRecord:  # a record `create` accepts
            return {"subject": f"Lampu jalan mati {n}", "body": f"Laporan nomor {n}"}

        def make_unreachable_connector(self) -> Connector:  # every read fails
            settings = WaDeskSettings(type="wadesk", base_url=closed_port_url())
            return WaDeskConnector("desk", settings)

then ``pytest tests/test_contract_wadesk.py``. Tests for a capability the connector lacks
(follow-ups, status writes, search by reference) skip themselves.

``bridge.testing.simulators`` holds stateful simulators of LAPOR! v3, SIDUMAS and Open311 over
real HTTP (what ``bridge demo`` and ``bridge simulate`` run). They need the web stack of the
``simulators`` extra: ``pip install 'lapor-bridge[simulators]'``.
"""
