"""Post-processing of WeasyPrint's PDF into a printer's file (PDF/X-4) and a reader's file.

Both functions take and return PDF bytes and are deterministic: the same input gives the same
output, byte for byte (the file /ID comes from the content, dates from the caller).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
import zlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import pikepdf
from pikepdf import Array, Dictionary, Name
from PIL import Image

from ..cache import Cache
from . import tagging
from .placement import Box, Placement, image_placements, page_box, page_resources
from .stack import TextStack

log = logging.getLogger(__name__)

MM = 72 / 25.4
# Resample only images this much sharper than the target. The printer's file tolerates more: a
# 350 ppi JPEG re-encoded to 300 ppi gains nothing but a second generation of compression.
RESAMPLE_ABOVE = 1.15
PRINT_RESAMPLE_ABOVE = 1.5
# Each medium's images: target ppi, JPEG quality, chroma subsampling, resample above × target,
# and whether CMYK JPEGs become RGB (the printer wants them as they are; a screen shows RGB).
MEDIA = {
    "print": (300, 92, 0, PRINT_RESAMPLE_ABOVE, False),
    "screen": (150, 82, 2, RESAMPLE_ABOVE, True),
}
SLUG_MM = 10.0  # extra media beyond the bleed when crop marks are drawn
MARK_GAP_MM = 1.0  # crop marks start this far outside the bleed edge
MARK_LENGTH_MM = 5.0
MARK_WIDTH_PT = 0.25
REGISTRATION = Name("/MagbuilderRegistration")
PDFX_VERSION = "PDF/X-4"
XMP_NAMESPACE = "urn:magbuilder:xmp:1.0#"  # magbuilder:TextStack, TextStackID, Fonts
LOSSLESS_FILTERS = {Name.FlateDecode, Name.LZWDecode}
DEVICE_COMPONENTS = {"/DeviceGray": 1, "/DeviceRGB": 3, "/DeviceCMYK": 4}


def finish_print(
    pdf: bytes,
    *,
    icc_profile: Path,
    output_condition: str = "FOGRA39",
    srgb_profile: Path,
    marks: bool = False,
    target_ppi: int = MEDIA["print"][0],
    jpeg_quality: int = MEDIA["print"][1],
    metadata_date: datetime,
    cache: Path | None = None,
    text_stack: TextStack | None = None,
    images_ready: bool = False,
) -> bytes:
    """The printer's file: PDF/X-4 with a CMYK output intent, images at ``target_ppi``.

    Annotations, forms, scripts and the structure tree are removed (PDF/X allows no interactive
    content on the printed sheet; the tags would point at removed links); the outline and named
    destinations stay. DeviceRGB is declared sRGB through ``/DefaultRGB``. ``marks`` grows the
    MediaBox by a slug and draws crop marks there, outside the bleed (WeasyPrint's own
    ``marks: crop`` fall inside a 3 mm bleed). ``metadata_date`` becomes every date in the file;
    ``text_stack`` is recorded in the XMP metadata. ``images_ready``: the images were already
    resampled (``prepare_images``, per chunk). Raises ValueError if ``icc_profile`` is not a
    CMYK profile or ``srgb_profile`` not RGB.
    """
    cmyk = _read_profile(icc_profile, b"CMYK")
    srgb = _read_profile(srgb_profile, b"RGB ")
    with pikepdf.open(BytesIO(pdf)) as doc:
        if not images_ready:
            resample_images(
                doc,
                target_ppi,
                jpeg_quality,
                subsampling=0,
                cache=cache,
                above=PRINT_RESAMPLE_ABOVE,
            )
        for page in doc.pages:
            _ensure_print_boxes(page)
        _strip_interactive(doc)
        _declare_default_rgb(doc, srgb)
        _set_output_intent(doc, cmyk, output_condition, _profile_description(icc_profile))
        digest = hashlib.sha256(pdf).digest()
        _set_metadata(doc, metadata_date, digest, text_stack, pdfx=True)
        if marks:
            _add_crop_marks(doc)
        return _save(doc, pikepdf.ObjectStreamMode.preserve, min_version="1.6")


def finish_screen(
    pdf: bytes,
    *,
    target_ppi: int = MEDIA["screen"][0],
    jpeg_quality: int = MEDIA["screen"][1],
    cache: Path | None = None,
    metadata_date: datetime | None = None,
    text_stack: TextStack | None = None,
    images_ready: bool = False,
) -> bytes:
    """The reader's file: PDF/UA-1, every page cut to its TrimBox, images at ``target_ppi``.

    WeasyPrint's tags, links, outline and named destinations are kept, and made what PDF/UA-1
    asks: the XMP declares ``pdfuaid:part`` 1 (with its extension schema); marked content that
    no structure element owns (the running heads and folios of margin boxes) becomes a
    pagination artifact; every link annotation gets a /Contents description and sits in a
    /Link structure element. ``metadata_date``, when given, becomes the file's dates in Info
    and XMP (with ``text_stack``, the libraries and fonts it was laid out with).
    ``images_ready``: the images were already resampled (``prepare_images``, per chunk).
    """
    with pikepdf.open(BytesIO(pdf)) as doc:
        digest = hashlib.sha256(pdf).digest()
        _set_metadata(doc, metadata_date, digest, text_stack, pdfx=False, pdfua=True)
        if not images_ready:
            resample_images(doc, target_ppi, jpeg_quality, subsampling=2, cache=cache, rgb=True)
        for page in doc.pages:
            _trim_page(page)
        tagging.declare_accessible(doc)
        tagging.unowned_content_as_artifacts(doc)
        tagging.describe_links(doc)
        tagging.links_in_link_elements(doc)
        return _save(doc, pikepdf.ObjectStreamMode.generate)


# --- images -----------------------------------------------------------------------------------


def prepare_images(pdf: bytes, medium: str, cache: Path | None = None) -> bytes:
    """A laid-out part with its images resampled as ``finish_print`` (``medium`` "print") or
    ``finish_screen`` ("screen") would: done per chunk, by the workers, and cached with the
    chunk, so that finishing the assembled magazine no longer touches its images. An image is
    placed in one part only, so its largest placement is the same there as in the magazine."""
    ppi, quality, subsampling, above, rgb = MEDIA[medium]
    with pikepdf.open(BytesIO(pdf)) as doc:
        resample_images(
            doc, ppi, quality, subsampling=subsampling, cache=cache, above=above, rgb=rgb
        )
        return _save(doc, pikepdf.ObjectStreamMode.disable)


def resample_images(
    doc: pikepdf.Pdf,
    target_ppi: float,
    jpeg_quality: int,
    *,
    subsampling: int = 0,
    cache: Path | None = None,
    above: float = RESAMPLE_ABOVE,
    rgb: bool = False,
) -> int:
    """Downsample images sharper than ``target_ppi`` × ``above`` at their largest placed size.

    JPEG images are re-encoded as JPEG at ``jpeg_quality`` (``subsampling``: 0 = 4:4:4,
    2 = 4:2:0); other images, and every soft mask, stay lossless (Flate). The soft mask of an
    image is resized with it. ``rgb``: CMYK JPEGs become RGB JPEGs too (resampled or not),
    as a screen shows them. Returns how many images were changed.
    """
    by_image: dict[tuple[int, int], list[Placement]] = defaultdict(list)
    for placement in image_placements(doc):
        by_image[placement.objgen].append(placement)
    count = 0
    for objgen, placements in sorted(by_image.items()):
        sharpest_needed = min(p.min_ppi for p in placements)  # the largest placement
        image = doc.get_object(objgen)
        sharper = sharpest_needed > target_ppi * above
        scale = target_ppi / sharpest_needed if sharper else 1
        size = (max(1, round(int(image.Width) * scale)), max(1, round(int(image.Height) * scale)))
        if rgb and _is_cmyk_jpeg(image):
            count += _cmyk_jpeg_to_rgb(image, size, jpeg_quality, subsampling)
        elif sharper and _resample_cached(image, size, jpeg_quality, subsampling, cache):
            count += 1
    return count


def _is_cmyk_jpeg(image: pikepdf.Stream) -> bool:
    """A plain 8-bit DeviceCMYK JPEG, possibly stored inverted (Adobe, /Decode [1 0 …])."""
    decode = image.get("/Decode")
    return (
        _filters(image) == [Name.DCTDecode]
        and image.get("/ColorSpace") == Name.DeviceCMYK
        and image.get("/BitsPerComponent") == 8
        and "/SMask" not in image
        and "/Mask" not in image
        and (decode is None or [float(v) for v in decode] in ([0, 1] * 4, [1, 0] * 4))
    )


def _cmyk_jpeg_to_rgb(image: pikepdf.Stream, size: tuple[int, int], quality: int, sub: int) -> bool:
    """Replace a CMYK JPEG by an RGB one of ``size`` (Pillow reads Adobe's inverted CMYK)."""
    try:
        pixels = pikepdf.PdfImage(image).as_pil_image()
    except (pikepdf.PdfError, NotImplementedError, ValueError, OSError) as exc:
        log.debug("not converting image %s: %s", image.objgen, exc)
        return False
    if pixels.mode != "CMYK":
        return False
    converted = pixels.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    _write_pixels(image, converted, True, quality, sub)
    image.ColorSpace = Name.DeviceRGB
    if "/Decode" in image:
        del image.Decode
    return True


def _resample_cached(
    image: pikepdf.Stream, size: tuple[int, int], quality: int, sub: int, cache: Path | None
) -> bool:
    """``_resample``, reusing an earlier result for a plain JPEG (no soft mask) from ``cache``."""
    plain_jpeg = _filters(image) == [Name.DCTDecode] and "/SMask" not in image
    if cache is None or not plain_jpeg or _pil_mode(image, True, [Name.DCTDecode]) is None:
        return _resample(image, size, quality, sub)
    key = hashlib.sha256(image.read_raw_bytes())
    key.update(f"{size}/{quality}/{sub}".encode())
    store = Cache(cache, ".jpg")
    resampled = store.get(key.hexdigest())
    if resampled is not None:
        image.write(resampled, filter=Name.DCTDecode)
        image.Width, image.Height = size
        image.BitsPerComponent = 8
        return True
    if not _resample(image, size, quality, sub):
        return False
    store.put(key.hexdigest(), image.read_raw_bytes())
    return True


def _resample(image: pikepdf.Stream, size: tuple[int, int], quality: int, sub: int) -> bool:
    """Replace ``image`` (and its soft mask) by a LANCZOS resize to ``size``; False if skipped."""
    filters = _filters(image)
    jpeg = filters == [Name.DCTDecode]
    mode = _pil_mode(image, jpeg, filters)
    if mode is None:
        log.debug("not resampling image %s: unsupported encoding", image.objgen)
        return False
    try:
        # pikepdf merges a soft mask into the result (RGBA, LA): the alpha is dropped here and
        # the mask itself resized separately, so both stay in the PDF's own form.
        pixels = pikepdf.PdfImage(image).as_pil_image()
        smask = image.get("/SMask")
        mask = pikepdf.PdfImage(smask).as_pil_image() if isinstance(smask, pikepdf.Stream) else None
    except (pikepdf.PdfError, NotImplementedError, ValueError, OSError) as exc:
        log.debug("not resampling image %s: %s", image.objgen, exc)
        return False
    if pixels.mode not in (mode, mode + "A"):
        log.debug("not resampling image %s: decoded as %s", image.objgen, pixels.mode)
        return False
    resized = pixels.convert(mode).resize(size, Image.Resampling.LANCZOS)
    _write_pixels(image, resized, jpeg, quality, sub)
    if mask is not None:
        _write_pixels(smask, mask.convert("L").resize(size, Image.Resampling.LANCZOS), False)
    return True


def _filters(image: pikepdf.Stream) -> list[Name]:
    value = image.get("/Filter")
    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


def _pil_mode(image: pikepdf.Stream, jpeg: bool, filters: list[Name]) -> str | None:
    """The Pillow mode of a plain 8-bit grey/RGB/CMYK image we can re-encode, else None.

    Left alone: decode arrays, colour-key or stencil masks, Indexed/Separation/Lab spaces,
    JPEG 2000 and other filters, and CMYK JPEGs (Adobe stores those inverted).
    """
    if not jpeg and not set(filters) <= LOSSLESS_FILTERS:
        return None
    if image.get("/ImageMask") or "/Mask" in image or "/Decode" in image:
        return None
    if image.get("/BitsPerComponent") != 8:
        return None
    space = image.get("/ColorSpace")
    components = DEVICE_COMPONENTS.get(str(space)) if isinstance(space, Name) else None
    if isinstance(space, Array) and len(space) == 2 and space[0] == Name.ICCBased:
        components = int(space[1].get("/N", 0))
    mode = {1: "L", 3: "RGB", 4: "CMYK"}.get(components or 0)
    return None if mode is None or (jpeg and mode == "CMYK") else mode


def _write_pixels(
    stream: pikepdf.Stream, pixels: Image.Image, jpeg: bool, quality: int = 0, sub: int = 0
) -> None:
    """Store ``pixels`` in ``stream`` as JPEG or Flate, updating its size entries."""
    if jpeg:
        out = BytesIO()
        pixels.info.pop("icc_profile", None)  # the PDF colour space carries the profile
        pixels.save(out, "JPEG", quality=quality, subsampling=sub, optimize=True)
        stream.write(out.getvalue(), filter=Name.DCTDecode)
    else:
        stream.write(zlib.compress(pixels.tobytes(), 6), filter=Name.FlateDecode)
    stream.Width, stream.Height = pixels.width, pixels.height
    stream.BitsPerComponent = 8


# --- page boxes -------------------------------------------------------------------------------


def _set_box(page: pikepdf.Page, key: str, box: Box) -> None:
    page.obj[key] = Array([round(v, 6) for v in box])


def _ensure_print_boxes(page: pikepdf.Page) -> None:
    """Give the page a TrimBox and a BleedBox (its crop or media box where it has none)."""
    media = page_box(page, "/MediaBox")
    assert media is not None
    crop = page_box(page, "/CropBox") or media
    if page_box(page, "/TrimBox") is None:
        _set_box(page, "/TrimBox", crop)
    if page_box(page, "/BleedBox") is None:
        _set_box(page, "/BleedBox", crop)


def _trim_page(page: pikepdf.Page) -> None:
    """MediaBox, CropBox and TrimBox all set to the trim; no BleedBox or ArtBox."""
    trim = page_box(page, "/TrimBox") or page_box(page, "/CropBox") or page_box(page, "/MediaBox")
    assert trim is not None
    for key in ("/MediaBox", "/CropBox", "/TrimBox"):
        _set_box(page, key, trim)
    for key in ("/BleedBox", "/ArtBox"):
        if key in page.obj:
            del page.obj[key]


def _read_profile(path: Path, colour_space: bytes) -> bytes:
    """The ICC profile at ``path``, checked to describe ``colour_space`` (b"CMYK", b"RGB ")."""
    data = Path(path).read_bytes()
    if len(data) < 128 or data[36:40] != b"acsp" or data[16:20] != colour_space:
        wanted = colour_space.decode().strip()
        raise ValueError(f"{path}: not an ICC profile for {wanted} data")
    return data


def _profile_description(path: Path) -> str | None:
    """The profile's own description (its 'desc' tag), if Pillow can read it."""
    try:
        from PIL import ImageCms
    except ImportError:  # Pillow built without littlecms
        return None
    try:
        return ImageCms.getProfileDescription(ImageCms.getOpenProfile(str(path))).strip() or None
    except (OSError, ImageCms.PyCMSError):
        return None


def _strip_interactive(doc: pikepdf.Pdf) -> None:
    """Remove annotations, forms, actions, scripts, attachments and the structure tree."""
    root = doc.Root
    for key in ("/AcroForm", "/AA", "/StructTreeRoot", "/MarkInfo"):
        if key in root:
            del root[key]
    if "/OpenAction" in root and isinstance(root.OpenAction, Dictionary):
        del root.OpenAction  # an action, not a destination
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                del names[key]
    for page in doc.pages:
        for key in ("/Annots", "/AA", "/StructParents"):
            if key in page.obj:
                del page.obj[key]


def _declare_default_rgb(doc: pikepdf.Pdf, srgb: bytes) -> None:
    """Make DeviceRGB mean sRGB in every resource dictionary and transparency group."""
    profile = doc.make_stream(srgb, N=3, Alternate=Name.DeviceRGB)
    space = doc.make_indirect(Array([Name.ICCBased, profile]))
    for obj in _resource_holders(doc):
        resources = obj.get("/Resources")
        if isinstance(resources, Dictionary):
            if not isinstance(resources.get("/ColorSpace"), Dictionary):
                resources.ColorSpace = Dictionary()
            if "/DefaultRGB" not in resources.ColorSpace:
                resources.ColorSpace.DefaultRGB = space
        group = obj.get("/Group")
        if isinstance(group, Dictionary) and group.get("/CS") == Name.DeviceRGB:
            group.CS = space


def _resource_holders(doc: pikepdf.Pdf) -> Iterable[pikepdf.Object]:
    """Pages, page-tree nodes, forms, tiling patterns and Type 3 fonts: what has /Resources."""
    for obj in doc.objects:
        if not isinstance(obj, Dictionary | pikepdf.Stream):
            continue
        kind, subtype = obj.get("/Type"), obj.get("/Subtype")
        if (
            kind in (Name.Page, Name.Pages)
            or subtype in (Name.Form, Name.Type3)
            or obj.get("/PatternType") == 1
        ):
            yield obj


def _set_output_intent(doc: pikepdf.Pdf, icc: bytes, condition: str, info: str | None) -> None:
    """The catalog's single GTS_PDFX output intent, carrying the CMYK profile."""
    profile = doc.make_stream(icc, N=4, Alternate=Name.DeviceCMYK)
    intent = Dictionary(
        Type=Name.OutputIntent,
        S=Name.GTS_PDFX,
        OutputCondition=pikepdf.String(info or condition),
        OutputConditionIdentifier=pikepdf.String(condition),
        RegistryName=pikepdf.String("http://www.color.org"),
        Info=pikepdf.String(info or condition),
        DestOutputProfile=profile,
    )
    doc.Root.OutputIntents = Array([doc.make_indirect(intent)])


def _set_metadata(
    doc: pikepdf.Pdf,
    date: datetime | None,
    digest: bytes,
    stack: TextStack | None,
    *,
    pdfx: bool,
    pdfua: bool = False,
) -> None:
    """XMP and Info with the given dates (None: Info's dates left as they are, none in XMP), a
    content-hash id and the text stack; for the printer's file also the PDF/X-4
    identification, untrapped; ``pdfua``: the PDF/UA-1 identification."""
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    info = doc.docinfo
    title = str(info.get("/Title", "")) or "Untitled"
    info.Title = title
    if date is not None:
        info.CreationDate = info.ModDate = _pdf_date(date)
    if pdfx:
        info.Trapped = Name("/False")
        info.GTS_PDFXVersion = PDFX_VERSION
    keys = ("Author", "Subject", "Keywords", "Creator", "Producer")
    fields = {key: str(info[f"/{key}"]) for key in keys if f"/{key}" in info}
    doc_id = uuid.UUID(bytes=digest[:16], version=4)
    xmp = _xmp(title, fields, date, doc_id, stack, pdfx, pdfua)
    doc.Root.Metadata = doc.make_stream(xmp, Type=Name.Metadata, Subtype=Name.XML)


def _pdf_date(date: datetime) -> str:
    offset = date.strftime("%z") or "+0000"
    return date.strftime("D:%Y%m%d%H%M%S") + f"{offset[:3]}'{offset[3:]}'"


# PDF/UA-1 (ISO 14289-1, 5) identifies itself with a property outside the XMP standard
# schemas, so the packet must describe it, as PDF/A's extension schemas do.
PDFUA_NAMESPACE = "http://www.aiim.org/pdfua/ns/id/"
PDFUA_EXTENSION = f"""
  <rdf:Description rdf:about=""
    xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
    xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
    xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
   <pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
    <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
    <pdfaSchema:namespaceURI>{PDFUA_NAMESPACE}</pdfaSchema:namespaceURI>
    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
     <pdfaProperty:name>part</pdfaProperty:name>
     <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
     <pdfaProperty:category>internal</pdfaProperty:category>
     <pdfaProperty:description>Which part of ISO 14289 is followed</pdfaProperty:description>
    </rdf:li></rdf:Seq></pdfaSchema:property>
   </rdf:li></rdf:Bag></pdfaExtension:schemas>
  </rdf:Description>"""


def _xmp(
    title: str,
    info: dict[str, str],
    date: datetime | None,
    doc_id: uuid.UUID,
    stack: TextStack | None,
    pdfx: bool,
    pdfua: bool = False,
) -> bytes:
    """An XMP packet with the document's properties and the text stack it was laid out with;
    for PDF/X-4, the identification and the properties ISO 15930-7 asks for; for PDF/UA-1,
    its identification and the extension schema that describes it."""
    props = [
        "<dc:format>application/pdf</dc:format>",
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt>'
        "</dc:title>",
    ]
    if "Author" in info:
        props.append(
            f"<dc:creator><rdf:Seq><rdf:li>{escape(info['Author'])}</rdf:li></rdf:Seq></dc:creator>"
        )
    if "Subject" in info:
        props.append(
            f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
            f"{escape(info['Subject'])}</rdf:li></rdf:Alt></dc:description>"
        )
    for tag, key in (
        ("pdf:Keywords", "Keywords"),
        ("pdf:Producer", "Producer"),
        ("xmp:CreatorTool", "Creator"),
    ):
        if key in info:
            props.append(f"<{tag}>{escape(info[key])}</{tag}>")
    if date is not None:
        stamp = date.isoformat(timespec="seconds")
        props += [
            f"<xmp:CreateDate>{stamp}</xmp:CreateDate>",
            f"<xmp:ModifyDate>{stamp}</xmp:ModifyDate>",
            f"<xmp:MetadataDate>{stamp}</xmp:MetadataDate>",
        ]
    props += [
        f"<xmpMM:DocumentID>uuid:{doc_id}</xmpMM:DocumentID>",
        f"<xmpMM:InstanceID>uuid:{doc_id}</xmpMM:InstanceID>",
    ]
    if pdfx:
        props += [
            "<pdf:Trapped>False</pdf:Trapped>",
            "<xmpMM:VersionID>1</xmpMM:VersionID>",
            "<xmpMM:RenditionClass>default</xmpMM:RenditionClass>",
            f"<pdfxid:GTS_PDFXVersion>{PDFX_VERSION}</pdfxid:GTS_PDFXVersion>",
        ]
    if pdfua:
        props.append("<pdfuaid:part>1</pdfuaid:part>")
    if stack is not None:
        fonts = "".join(
            f"<rdf:li>{escape(name)} sha256:{digest}</rdf:li>"
            for name, digest in sorted(stack.fonts.items())
        )
        props += [
            f"<magbuilder:TextStack>{escape(stack.summary())}</magbuilder:TextStack>",
            f"<magbuilder:TextStackID>{stack.id}</magbuilder:TextStackID>",
            f"<magbuilder:Fonts><rdf:Bag>{fonts}</rdf:Bag></magbuilder:Fonts>",
        ]
    body = "\n   ".join(props)
    # Only the screen file declares (and describes) pdfuaid: the printer's packet is unchanged.
    ua_namespace = f'\n    xmlns:pdfuaid="{PDFUA_NAMESPACE}"' if pdfua else ""
    extension = PDFUA_EXTENSION if pdfua else ""
    packet = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/"
    xmlns:magbuilder="{XMP_NAMESPACE}"{ua_namespace}>
   {body}
  </rdf:Description>{extension}
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return packet.encode("utf-8")


# --- crop marks -------------------------------------------------------------------------------


def crop_mark_lines(trim: Box, bleed: Box) -> list[Box]:
    """The eight crop-mark segments (x0, y0, x1, y1): on the trim lines, outside the bleed.

    Each starts ``MARK_GAP_MM`` beyond the bleed edge on its side, so no mark can print on the
    bleed of the page even if the sheet is cut slightly off.
    """
    gap, length = MARK_GAP_MM * MM, MARK_LENGTH_MM * MM
    lines: list[Box] = []
    for x, bleed_x, sx in ((trim[0], bleed[0], -1), (trim[2], bleed[2], 1)):
        for y, bleed_y, sy in ((trim[1], bleed[1], -1), (trim[3], bleed[3], 1)):
            start_x = abs(bleed_x - x) + gap
            start_y = abs(bleed_y - y) + gap
            lines.append((x + sx * start_x, y, x + sx * (start_x + length), y))
            lines.append((x, y + sy * start_y, x, y + sy * (start_y + length)))
    return lines


def _add_crop_marks(doc: pikepdf.Pdf) -> None:
    """Grow each MediaBox by a slug beyond the bleed and draw crop marks there."""
    tint = Dictionary(FunctionType=2, Domain=[0, 1], C0=[0, 0, 0, 0], C1=[1, 1, 1, 1], N=1)
    space = doc.make_indirect(Array([Name.Separation, Name.All, Name.DeviceCMYK, tint]))
    slug = SLUG_MM * MM
    for page in doc.pages:
        trim, bleed = page_box(page, "/TrimBox"), page_box(page, "/BleedBox")
        assert trim is not None and bleed is not None
        media = (bleed[0] - slug, bleed[1] - slug, bleed[2] + slug, bleed[3] + slug)
        _set_box(page, "/MediaBox", media)
        if "/CropBox" in page.obj:
            _set_box(page, "/CropBox", media)
        if "/Resources" not in page.obj:  # inherited: give the page its own, same content
            page.obj.Resources = page_resources(page)
        resources = page.obj.Resources
        if not isinstance(resources.get("/ColorSpace"), Dictionary):
            resources.ColorSpace = Dictionary()
        resources.ColorSpace[REGISTRATION] = space
        page.contents_add(doc.make_stream(b"q\n"), prepend=True)
        page.contents_add(doc.make_stream(_marks_stream(crop_mark_lines(trim, bleed))))


def _marks_stream(lines: list[Box]) -> bytes:
    paths = "".join(f"{x0:.3f} {y0:.3f} m {x1:.3f} {y1:.3f} l S\n" for x0, y0, x1, y1 in lines)
    head = f"Q\nq\n{REGISTRATION} CS 1 SCN {MARK_WIDTH_PT} w 0 J 0 j [] 0 d\n"
    return (head + paths + "Q\n").encode("ascii")


# --- saving -----------------------------------------------------------------------------------


def _save(doc: pikepdf.Pdf, streams: pikepdf.ObjectStreamMode, min_version: str = "") -> bytes:
    out = BytesIO()
    doc.save(
        out,
        min_version=min_version,
        fix_metadata_version=False,
        compress_streams=True,
        object_stream_mode=streams,
        recompress_flate=False,
        deterministic_id=True,
    )
    return out.getvalue()
