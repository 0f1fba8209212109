"""Named demo personas, one per role, in the units of the seed reports."""

from tiendo.accounts.models import Role, User
from tiendo.units.models import Unit
from tiendo.units.services import resolve_unit

DEMO_PASSWORD = "tiendo-demo"

# username, full name, role, unit code (or a callable choosing the unit), position
PERSONAS = [
    ("quantri", "Quản trị hệ thống", Role.ADMIN, "VN", "Quản trị viên"),
    (
        "bcd.hagiang",
        "Nguyễn Văn Điều Phối",
        Role.COORDINATOR,
        "02",
        "Tổ giúp việc Ban Chỉ đạo cấp tỉnh",
    ),
    ("lanhdao.hagiang", "Trần Thị Lãnh Đạo", Role.LEADER, "02", "Phó Chủ tịch UBND tỉnh"),
    (
        "huyen.vixuyen",
        "Lê Văn Huyện",
        Role.AGENCY_OFFICER,
        "district:Huyện Vị Xuyên",
        "Chuyên viên Phòng NN&PTNT",
    ),
    (
        "xa.vixuyen",
        "Hoàng Văn Xã",
        Role.COMMUNE_OFFICER,
        "commune:Huyện Vị Xuyên",
        "Công chức địa chính - nông nghiệp",
    ),
    (
        "lmhtx.quangtri",
        "Cấp Kim Thành",
        Role.AGENCY_OFFICER,
        "45.LMHTX",
        "Chủ tịch Liên minh HTX tỉnh",
    ),
    (
        "vpdp.quangtri",
        "Phạm Văn Điều Phối",
        Role.COORDINATOR,
        "45.VPDP",
        "Chánh Văn phòng điều phối NTM",
    ),
    ("lanhdao.tuyenquang", "Vũ Thị Tuyên", Role.LEADER, "08", "Lãnh đạo UBND tỉnh Tuyên Quang"),
]


def _unit(ref: str) -> Unit:
    if ref.startswith("district:"):
        return Unit.objects.get(parent=resolve_unit("02"), name=ref.split(":", 1)[1])
    if ref.startswith("commune:"):
        district = Unit.objects.get(parent=resolve_unit("02"), name=ref.split(":", 1)[1])
        return Unit.objects.filter(parent=district).exclude(kind="agency").order_by("code").first()
    return resolve_unit(ref)


def ensure_demo_users() -> list[User]:
    users = []
    for username, full_name, role, unit_ref, position in PERSONAS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": full_name,
                "role": role,
                "unit": _unit(unit_ref),
                "position": position,
                "is_superuser": role == Role.ADMIN,
                "is_staff": role == Role.ADMIN,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users.append(user)
    return users
