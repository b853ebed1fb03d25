"""The photo pipeline without a database: hostile files, orientation, metadata, hashes."""

import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pillow_heif
import pytest
from PIL import Image

from app.core.errors import PayloadTooLarge, UnsupportedMedia
from app.services.media.imaging import process
from app.services.media.imaging.process import PhotoFacts, hamming, process_photo
from app.services.media.imaging.sniff import sniff
from tests.samples import (
    INVERSE,
    encode,
    flat_jpeg,
    hostile_corpus,
    mpo,
    phone_jpeg,
    scene,
    zip_archive,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def run(tmp_path: Path, data: bytes, name: str = "photo.jpg", *, max_pixels: int = 64_000_000,
        max_jpeg_pixels: int = 200_000_000) -> PhotoFacts:
    """The photo through the pipeline, with the default limits."""
    path = tmp_path / name
    path.write_bytes(data)
    return process_photo(path, name=name, max_pixels=max_pixels, tz=SHANGHAI,
                         max_jpeg_pixels=max_jpeg_pixels)


@pytest.mark.parametrize("name", sorted(hostile_corpus()))
def test_hostile_files_are_refused(tmp_path: Path, name: str) -> None:
    data = hostile_corpus()[name]
    with pytest.raises((UnsupportedMedia, PayloadTooLarge)) as refused:
        run(tmp_path, data, name)
    assert name in str(refused.value.detail)  # the message names the file


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_gives_upright_derivatives(tmp_path: Path, orientation: int) -> None:
    upright = Image.new("RGB", (400, 200), (255, 255, 255))
    upright.paste(Image.new("RGB", (100, 50), (255, 0, 0)), (0, 0))  # red at the top left
    stored = upright.transpose(INVERSE[orientation]) if orientation in INVERSE else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    facts = run(tmp_path, encode(stored, "JPEG", quality=95, exif=exif))
    for variant, side in (("preview", 400), ("thumb", 320)):
        image = Image.open(io.BytesIO(facts.derivatives[variant]))
        assert image.format == "JPEG"
        assert image.width > image.height and image.width == side
        assert not image.getexif()
        red, green, _ = image.convert("RGB").getpixel((image.width // 16, image.height // 16))
        assert red > 200 and green < 60, f"orientation {orientation}: top-left not red"


def test_derivative_sizes_for_a_12_megapixel_photo(tmp_path: Path) -> None:
    facts = run(tmp_path, phone_jpeg(size=(4032, 3024), orientation=6))
    preview = Image.open(io.BytesIO(facts.derivatives["preview"]))
    thumb = Image.open(io.BytesIO(facts.derivatives["thumb"]))
    assert preview.size == (1200, 1600)  # rotated upright: portrait
    assert thumb.size == (240, 320)
    assert (facts.width, facts.height) == (4032, 3024)


def test_exif_time_gps_and_camera_are_read(tmp_path: Path) -> None:
    taken = datetime(2026, 11, 20, 9, 30, 5)
    facts = run(tmp_path, phone_jpeg(taken=taken, gps=(29.80213, 119.69105)))
    assert facts.captured_at == taken.replace(tzinfo=timezone(timedelta(hours=8)))
    assert facts.captured_offset_known
    assert facts.gps == pytest.approx((29.80213, 119.69105), abs=1e-5)
    assert (facts.make, facts.model) == ("HUAWEI", "P60 Pro")


def test_time_without_offset_is_local_and_southern_western_gps(tmp_path: Path) -> None:
    facts = run(tmp_path, phone_jpeg(taken=datetime(2026, 1, 2, 3, 4, 5), offset=None,
                                     gps=(-33.8688, -151.2093)))
    assert facts.captured_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=SHANGHAI)
    assert not facts.captured_offset_known
    assert facts.captured_at.astimezone(UTC).hour == 19
    assert facts.gps == pytest.approx((-33.8688, -151.2093), abs=1e-5)


def test_no_exif_means_no_time_and_no_place(tmp_path: Path) -> None:
    facts = run(tmp_path, encode(scene((300, 200), 2), "PNG"), "screen.png")
    assert facts.captured_at is None and facts.gps is None
    assert facts.content_type == "image/png"


@pytest.mark.parametrize(("fmt", "kind"), [("PNG", "png"), ("WEBP", "webp"), ("JPEG", "jpeg")])
def test_other_formats_are_accepted(tmp_path: Path, fmt: str, kind: str) -> None:
    facts = run(tmp_path, encode(scene((300, 200), 4), fmt), f"x.{kind}")
    assert facts.kind == kind
    assert Image.open(io.BytesIO(facts.derivatives["thumb"])).format == "JPEG"


def test_heic_gets_jpeg_derivatives(tmp_path: Path) -> None:
    heif = pillow_heif.from_pillow(scene((640, 480), 6))
    out = io.BytesIO()
    heif.save(out, quality=80)
    facts = run(tmp_path, out.getvalue(), "IMG_0001.HEIC")
    assert facts.kind == "heif" and facts.content_type == "image/heif"
    thumb = Image.open(io.BytesIO(facts.derivatives["thumb"]))
    assert thumb.format == "JPEG" and thumb.size == (320, 240)


def test_rgba_png_is_flattened_on_white(tmp_path: Path) -> None:
    transparent = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    facts = run(tmp_path, encode(transparent, "PNG"), "t.png")
    thumb = Image.open(io.BytesIO(facts.derivatives["thumb"])).convert("RGB")
    assert thumb.getpixel((50, 50)) == pytest.approx((255, 255, 255), abs=2)


def test_pixel_ceiling(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(encode(Image.new("L", (3000, 3000)), "PNG"))
    with pytest.raises(PayloadTooLarge):
        process_photo(path, name="big.png", max_pixels=8_000_000, tz=SHANGHAI)


def test_perceptual_hash_survives_recompression_but_not_another_scene(tmp_path: Path) -> None:
    picture = scene((1200, 900), 7)
    original = run(tmp_path, encode(picture, "JPEG", quality=92))
    again = run(tmp_path, encode(picture.resize((800, 600)), "JPEG", quality=60))
    other = run(tmp_path, encode(scene((1200, 900), 8), "JPEG", quality=92))
    assert hamming(original.phash, again.phash) <= 6
    assert hamming(original.phash, other.phash) > 12


def test_sniffing_ignores_names() -> None:
    assert sniff(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff(b"GIF89a") is None
    assert sniff(b"<svg") is None
    assert sniff(b"\x00\x00\x00\x18ftypheic") == "heif"
    assert sniff(b"\x00\x00\x00\x18ftypisom") is None  # an MP4 video is not a photo


def test_avif_is_told_from_heic_by_its_brands() -> None:
    assert sniff(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf") == "avif"
    assert sniff(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif") == "avif"
    assert sniff(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heicavif") == "heif"
    assert sniff(b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00mif1heicmiaf") == "heif"


def test_a_multi_picture_jpeg_whose_second_frame_holds_a_zip_signature_is_accepted(
        tmp_path: Path) -> None:
    data = mpo(in_second_frame=b"PK\x03\x04")
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.n_frames) == ("MPO", 2)
    assert data.index(b"PK\x03\x04") > len(data) // 2  # in the second frame's scan data
    facts = run(tmp_path, data, "PXL_0001.jpg")
    assert (facts.kind, facts.width, facts.height) == ("jpeg", 480, 360)


def test_an_archive_after_the_last_frame_of_a_multi_picture_jpeg_is_refused(
        tmp_path: Path) -> None:
    for name, data in (("after.jpg", mpo(appended=zip_archive())),
                       ("between.jpg", mpo(between=zip_archive()))):
        with pytest.raises(UnsupportedMedia, match="其他类型的文件"):
            run(tmp_path, data, name)


def heif(*images: Image.Image, primary: int = 0, **options: object) -> bytes:
    out = io.BytesIO()
    images[0].save(out, "HEIF", save_all=True, append_images=list(images[1:]),
                   primary_index=primary, quality=70, **options)
    return out.getvalue()


def test_a_heif_of_several_images_is_its_primary_image(tmp_path: Path) -> None:
    # As an iPhone spatial photo or a file with extra items: the primary need not be first.
    other = Image.new("RGB", (640, 480), (0, 0, 255))
    primary = Image.new("RGB", (400, 300), (255, 0, 0))
    data = heif(other, primary, other, primary=1)
    facts = run(tmp_path, data, "IMG_0003.HEIC")
    assert (facts.kind, facts.width, facts.height) == ("heif", 400, 300)
    thumb = Image.open(io.BytesIO(facts.derivatives["thumb"])).convert("RGB")
    assert thumb.size == (320, 240)
    red, green, blue = thumb.getpixel((160, 120))
    assert red > 200 and green < 60 and blue < 60  # the primary's pixels, not the first image's


@pytest.mark.parametrize(("brand", "kind"), [(b"msf1", "HEIF"), (b"hevc", "HEIF"),
                                             (b"avis", "AVIF")])
def test_an_image_sequence_is_refused_as_such(tmp_path: Path, brand: bytes, kind: str) -> None:
    data = heif(scene((320, 240), 1), scene((320, 240), 2))
    assert data[4:12] == b"ftypheic"
    sequence = data[:8] + brand + data[12:]  # the major brand of an image sequence
    with pytest.raises(UnsupportedMedia, match=rf"「burst\.heic」是 {kind} 图像序列（连拍或动画）"):
        run(tmp_path, sequence, "burst.heic")


def test_a_200_megapixel_jpeg_is_accepted_and_decoded_reduced(tmp_path: Path) -> None:
    facts = run(tmp_path, flat_jpeg(16320, 12240), "200mp.jpg")  # 199.8 MP, a phone's mode
    assert (facts.width, facts.height) == (16320, 12240)
    preview = Image.open(io.BytesIO(facts.derivatives["preview"]))
    assert preview.size == (1600, 1200)
    assert preview.convert("L").getpixel((800, 600)) == pytest.approx(128, abs=2)


def test_above_200_megapixels_the_refusal_says_the_limit_and_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLarge) as refused:
        run(tmp_path, flat_jpeg(16384, 12288), "huge.jpg")
    assert refused.value.detail == (
        "「huge.jpg」有 2.01 亿像素（16384×12288），超过 2 亿像素的上限。"
        "请在相机中关闭高像素模式（如 1 亿、2 亿像素），用标准模式拍摄后上传")


def test_images_decoded_whole_keep_the_lower_ceiling(tmp_path: Path) -> None:
    picture = scene((1600, 1200), 3)  # 192 万像素, limits scaled down: 100 and 400 万
    limits = {"max_pixels": 1_000_000, "max_jpeg_pixels": 4_000_000}
    assert run(tmp_path, encode(picture, "JPEG"), "baseline.jpg", **limits).width == 1600
    for name, data, what in (
            ("progressive.jpg", encode(picture, "JPEG", progressive=True), "渐进式 JPEG"),
            ("screen.png", encode(picture, "PNG"), "PNG 照片")):
        with pytest.raises(PayloadTooLarge) as refused:
            run(tmp_path, data, name, **limits)
        assert refused.value.detail == (
            f"「{name}」有 192 万像素（1600×1200），超过{what} 100 万像素的上限"
            "（普通 JPEG 照片可到 400 万像素）。请在相机中关闭高像素模式（如 1 亿、2 亿像素），"
            "用标准模式拍摄后上传")


def avif(image: Image.Image, **options: object) -> bytes:
    data = encode(image, "AVIF", quality=60, **options)
    assert data[4:12] == b"ftypavif"
    return data


def test_avif_is_decoded_with_its_exif(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = "Google", "Pixel 9", 6
    exif.get_ifd(0x8769)[0x9003] = "2026:11:20 09:30:05"
    facts = run(tmp_path, avif(scene((640, 480), 5), exif=exif), "PXL_0002.avif")
    assert (facts.kind, facts.content_type) == ("avif", "image/avif")
    assert (facts.width, facts.height, facts.orientation) == (640, 480, 6)
    assert facts.captured_at == datetime(2026, 11, 20, 9, 30, 5, tzinfo=SHANGHAI)
    assert (facts.make, facts.model) == ("Google", "Pixel 9")
    thumb = Image.open(io.BytesIO(facts.derivatives["thumb"]))
    assert thumb.format == "JPEG" and thumb.size == (240, 320)  # upright: portrait


def test_avif_without_a_decoder_is_refused_as_not_supported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "AVIF_DECODES", False)
    with pytest.raises(UnsupportedMedia) as refused:
        run(tmp_path, avif(scene((64, 48), 5)), "x.avif")
    assert "不支持" in refused.value.detail and "损坏" not in refused.value.detail


def test_exif_text_keeps_every_string_of_a_field_and_drops_the_padding(tmp_path: Path) -> None:
    # An ASCII field may hold several NUL-ended strings (TIFF 6.0); cameras pad with NULs.
    facts = run(tmp_path, phone_jpeg(raw_exif={0x010F: "SONY\x00\x00\x00 ",
                                               0x0110: "ION230\x00F"}))
    assert (facts.make, facts.model) == ("SONY", "ION230 F")
    long = run(tmp_path, phone_jpeg(raw_exif={0x0110: "A" * 99 + "\x00" + "B" * 50}))
    assert long.model == "A" * 99  # cut at 100 characters, and no space left dangling


def test_heic_reports_its_orientation_and_stored_size_like_a_jpeg(tmp_path: Path) -> None:
    upright = Image.new("RGB", (400, 200), (255, 255, 255))
    upright.paste(Image.new("RGB", (100, 50), (255, 0, 0)), (0, 0))  # red at the top left
    for orientation in range(1, 9):
        stored = upright.transpose(INVERSE[orientation]) if orientation in INVERSE else upright
        exif = Image.Exif()
        exif[0x0112] = orientation
        jpeg = run(tmp_path, encode(stored, "JPEG", quality=95, exif=exif), "o.jpg")
        heic = run(tmp_path, encode(stored, "HEIF", quality=90, exif=exif.tobytes()), "o.heic")
        assert (heic.orientation, heic.width, heic.height) == \
            (jpeg.orientation, jpeg.width, jpeg.height) == (orientation, *stored.size)
        thumb = Image.open(io.BytesIO(heic.derivatives["thumb"])).convert("RGB")
        assert thumb.size == (320, 160)  # upright, turned once only
        red, green, _ = thumb.getpixel((thumb.width // 16, thumb.height // 16))
        assert red > 200 and green < 60, f"orientation {orientation}: top-left not red"


def test_heic_orientation_falls_back_to_the_exif_one(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # pillow-heif versions that do not show the transformations: the EXIF value it took out.
    monkeypatch.setattr(process, "_orientation_of", lambda steps: None)
    exif = Image.Exif()
    exif[0x0112] = 6
    heic = run(tmp_path, encode(scene((400, 200), 3), "HEIF", exif=exif.tobytes()), "o.heic")
    assert (heic.orientation, heic.width, heic.height) == (6, 400, 200)


def test_a_bomb_refused_by_pillow_itself_is_told_the_limits(tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLarge) as refused:
        run(tmp_path, hostile_corpus()["bomb.png"], "bomb.png")  # 100 亿像素
    assert refused.value.detail == (
        "「bomb.png」像素数超过上限（普通 JPEG 照片最多 2 亿像素，其他格式最多 6400 万像素）。"
        "请在相机中关闭高像素模式（如 1 亿、2 亿像素），用标准模式拍摄后上传")
