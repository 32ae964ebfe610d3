"""``--region`` is checked against one list of AWS Regions (``aws_contract.limits.AWS_REGIONS``), held here
to botocore's endpoint data: a Region botocore knows and the list misses would be refused."""

from __future__ import annotations

import botocore.session

from aws_contract import limits


def test_the_region_list_is_botocore_s_every_partition() -> None:
    endpoints = botocore.session.get_session().get_component("data_loader").load_data("endpoints")
    known = {region for partition in endpoints["partitions"] for region in partition["regions"]}
    assert len(limits.AWS_REGIONS) == len(set(limits.AWS_REGIONS))
    assert set(limits.AWS_REGIONS) == known
