from __future__ import annotations

import asyncio
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from mamori.accounts.enums import TokenScope
from mamori.api.deps import Caller, PlatformDep
from mamori.core.errors import PayloadTooLarge, PermissionDenied, ValidationFailed
from mamori.ingest import service as ingest
from mamori.ingest.schemas import IngestResult

router = APIRouter(tags=["ingest"])

# The body is read raw (streamed, gunzipped, bounded), so FastAPI cannot infer it: documented here.
INGEST_BODY: dict[str, Any] = {
    "x-mamori-auth": "token",  # a person's session is refused: the token names organisation and sensor
    "requestBody": {
        "required": True,
        "description": (
            "A batch of records in any format mamori reads; `format` names the parser, else it is sniffed. "
            "Send `Content-Encoding: gzip` to compress."
        ),
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}, "example": '{"message": "login failed"}\n'},
            "application/json": {
                "schema": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]}
            },
            "text/plain": {
                "schema": {
                    "type": "string",
                    "description": "Web access logs (combined/common), syslog (RFC 3164/5424), Suricata EVE lines.",
                }
            },
            "application/octet-stream": {
                "schema": {"type": "string", "format": "binary", "description": "A Windows EVTX file, or any above."}
            },
        },
    },
    "parameters": [
        {
            "name": "Content-Encoding",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "enum": ["gzip", "x-gzip", "identity"]},
            "description": "`gzip` when the body is gzip-compressed; the size limit applies after gunzip.",
        }
    ],
}


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, gunzipped when sent with Content-Encoding: gzip, refused past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body over {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() in ("gzip", "x-gzip"):
        return _gunzip(body, limit)
    return body


def _gunzip(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ValidationFailed(f"not valid gzip: {exc}", where="body") from exc
    if len(data) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"body over {limit} bytes once decompressed")
    return data


@router.post("/ingest", status_code=202, responses={413: {}}, openapi_extra=INGEST_BODY)
async def ingest_batch(
    request: Request,
    principal: Caller,
    platform: PlatformDep,
    format: Annotated[str | None, Query(max_length=30, description="Parser name; sniffed when absent.")] = None,
) -> IngestResult:
    """Accept a batch of events with an API token of scope `ingest`; the token names organisation and sensor.

    NDJSON, a JSON array or object, web access logs, syslog, Suricata EVE or EVTX. Answered once the batch is
    stored (202); detection runs after. Records that cannot be read are counted as `rejected` and kept as dead
    letters with the reason, never dropped.
    """
    if principal.token_org is None:
        raise PermissionDenied("ingest needs a sensor or integration API token")
    principal.require_scope(TokenScope.INGEST)
    body = await read_body(request, platform.settings.ingest_max_bytes)
    accepted = await asyncio.to_thread(_accept, platform, principal.token_org, principal.sensor or "", body, format)
    return accepted.result


def _accept(platform: PlatformDep, org: str, sensor: str, body: bytes, fmt: str | None) -> ingest.Accepted:
    with platform.db.session() as session:
        accepted = ingest.accept(session, archive=platform.archive, org_id=org, sensor=sensor, data=body, fmt=fmt)
    platform.note_accepted(org, accepted.result.batch_id, accepted.events, accepted.result.rejected)
    return accepted
