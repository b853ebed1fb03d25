"""The public 安全码 page: an enterprise's name and colour, at the signed address its QR code
holds. No login; nothing else about the enterprise is shown."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from app.http.deps import SessionDep
from app.http.render import render
from app.services.checks import safety_code

router = APIRouter(include_in_schema=False)


@router.get("/safety/{enterprise_id:int}", response_class=HTMLResponse)
def safety_page(enterprise_id: int, session: SessionDep,
                s: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    enterprise = safety_code.public_enterprise(session, enterprise_id, s)
    colour = safety_code.colour_of(session, enterprise.id)
    html = render("safety_code.html", name=enterprise.name, colour=colour,
                  colour_label=safety_code.COLOUR_LABELS[colour],
                  tip_url=f"/tip?enterprise={enterprise.id}&s={s}")
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
