"""Reading the mirrored lake back: an error object's type comes from where schema.ERROR_PREFIX puts it."""

from __future__ import annotations

import pytest

from eventlake.checks import lake_contents as lake
from glue import schema
from glue.errors import ErrorOutputType

NAME = "eventlake-dev-delivery-1-2026-03-01-18-05-00-0b8f8f9e-4a0e-4a8e-9d1c-2f6f1c1e7a11"


@pytest.mark.parametrize("kind", list(ErrorOutputType))
def test_the_error_type_is_read_from_its_place_in_the_prefix(kind: ErrorOutputType) -> None:
    key = schema.ERROR_PREFIX.replace("!{firehose:error-output-type}", kind.value).replace(
        "!{timestamp:yyyy/MM/dd/HH}", "2026/03/01/18"
    )
    assert lake.error_output_type(key + NAME) == kind.value


def test_the_backup_destinations_error_objects_are_read_too() -> None:
    key = schema.BACKUP_ERROR_PREFIX.replace("!{firehose:error-output-type}", "processing-failed")
    key = key.replace("!{timestamp:yyyy/MM/dd/HH}", "2026/03/01/18")
    assert key.startswith(schema.ERROR_ROOT + "backup/")
    assert lake.error_output_type(key + NAME) == "processing-failed"


@pytest.mark.parametrize(
    "key",
    [
        f"errors/2026/03/01/18/processing-failed/{NAME}",  # type moved after the time
        f"errors/backup/2026/03/01/18/processing-failed/{NAME}",  # the backup's, type moved
        f"errors/processing_failed/2026/03/01/18/{NAME}",  # not an error output type
        f"errors/processing-failed/2026/3/01/18/{NAME}",  # not the timestamp's pattern
        "errors/processing-failed/2026/03/01/18/",  # no object name
    ],
)
def test_a_key_off_the_error_layout_is_refused_not_misread(key: str) -> None:
    with pytest.raises(ValueError, match="does not follow the error prefix"):
        lake.error_output_type(key)
