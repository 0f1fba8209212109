from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tiendo.core.formatting import format_number
from tiendo.documents.models import DocumentFormat, ReportDefinition
from tiendo.documents.pdf import PdfError
from tiendo.documents.render import RenderError
from tiendo.documents.services import generate, generate_for_submission
from tiendo.documents.templates_build import write_shipped
from tiendo.reporting.models import Submission


class Command(BaseCommand):
    help = "Báo cáo: liệt kê các báo cáo đã định nghĩa, xuất Word/PDF/Excel, ghi mẫu Word."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Liệt kê các báo cáo đã định nghĩa.")
        render = sub.add_parser("render", help="Xuất một báo cáo ra tệp .docx, .pdf hoặc .xlsx.")
        render.add_argument("slug", nargs="?", help="Mã báo cáo, ví dụ quangtri-lmhtx-ntm-2020")
        render.add_argument(
            "--submission",
            type=int,
            help="Số của báo cáo đơn vị (trang /bao-cao/bao-cao/SỐ/): xuất báo cáo của đơn vị đó "
            "theo công văn, với số liệu và thuyết minh của đơn vị",
        )
        render.add_argument("--out", required=True, help="Tệp ra; định dạng theo phần mở rộng")
        templates = sub.add_parser("templates", help="Ghi các mẫu Word của hệ thống ra thư mục.")
        templates.add_argument("--out", required=True, help="Thư mục ghi mẫu")

    def handle(self, *args, action, **options):
        if action == "list":
            definitions = ReportDefinition.objects.select_related("unit").order_by("slug")
            if not definitions:
                self.stdout.write("Chưa có báo cáo nào. Chạy: tiendo demo load")
            for d in definitions:
                self.stdout.write(f"{d.slug:<32} {d.period:<10} {d.unit.name:<40} {d.title}")
            return
        if action == "templates":
            for path in write_shipped(Path(options["out"])):
                self.stdout.write(str(path))
            return
        out = Path(options["out"])
        fmt = out.suffix.lower().lstrip(".")
        if fmt not in DocumentFormat.values:
            raise CommandError(
                f"Không biết xuất ra “{out.suffix or out.name}”: dùng .docx, .pdf hoặc .xlsx."
            )
        if bool(options["slug"]) == bool(options["submission"]):
            raise CommandError("Cho mã báo cáo, hoặc --submission SỐ (một trong hai).")
        try:
            if options["submission"]:
                submission = self._submission(options["submission"])
                document = generate_for_submission(submission, fmt)
            else:
                document = generate(self._definition(options["slug"]), fmt)
        except (RenderError, PdfError) as exc:
            raise CommandError(str(exc)) from exc
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(bytes(document.content))
        self.stdout.write(
            f"Đã ghi {out} ({format_number(document.size)} byte, sha256 {document.sha256[:12]}…); "
            f"lưu văn bản số {document.pk} của báo cáo “{document.definition.slug}” cùng "
            f"{len(document.snapshot['figures'])} số liệu."
        )

    def _definition(self, slug: str) -> ReportDefinition:
        try:
            return ReportDefinition.objects.get(slug=slug)
        except ReportDefinition.DoesNotExist as exc:
            raise CommandError(
                f"Không có báo cáo “{slug}”. Xem danh sách: tiendo report list"
            ) from exc

    def _submission(self, pk: int) -> Submission:
        try:
            return Submission.objects.select_related("request", "unit").get(pk=pk)
        except Submission.DoesNotExist as exc:
            raise CommandError(f"Không có báo cáo đơn vị số {pk}.") from exc
