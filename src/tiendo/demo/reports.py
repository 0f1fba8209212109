"""The two demo reports: the seeds' documents, defined so the system writes them again.

``hagiang-nq04-nq05-2022`` (seed 000) renders with Hà Giang's own version of the programme
results template — the province adapted the shipped one, putting its sentences around the
figures — and ``quangtri-lmhtx-ntm-2020`` (seed 003) with the shipped agency NTM template.

The narrative text is the seeds' own. It is kept here, in the definitions, until the
reporting app's submissions carry it (documents.narrative.narrative_parts prefers those).
Header details the seeds do not show (document numbers, the Hà Giang date, signer and
recipients) are demo values, editable like any definition.
"""

from __future__ import annotations

from datetime import date

from tiendo.documents import templates_build as tb
from tiendo.documents.models import ReportDefinition, ReportTemplate, TemplateKind
from tiendo.documents.services import ensure_shipped_templates
from tiendo.documents.templates_build import content_digest
from tiendo.programmes.models import Programme
from tiendo.units.services import resolve_unit

HA_GIANG_RESULTS = [
    tb.h2("2.2. Kết quả tổng quan"),
    tb.p(
        "- Tổng số hộ thực hiện đến thời điểm báo cáo {{ f.HG_HOUSEHOLDS_IMPLEMENTING }} hộ"
        " (số hộ được thụ hưởng chính sách từ Nghị quyết 04 và 05 là"
        " {{ f.HG_HOUSEHOLDS_BENEFITING }} hộ)."
    ),
    tb.p(
        "- Nghị quyết 05 sau khi trừ chi phí đầu tư tăng từ {{ f.NQ05_INCOME_GAIN }} triệu"
        " đồng/năm; Nghị quyết 04 bình quân 1 ha cho thu nhập (sau khi trừ chi phí đầu tư)"
        " được {{ f.NQ04_NET_INCOME_PER_HA }} triệu đồng/ha, thu nhập"
        " {{ f.NQ04_NET_INCOME.ratio_to(f.NQ04_GROSS_INCOME_BEFORE) }} so với trước khi thực"
        " hiện Nghị quyết."
    ),
    tb.p(
        "- Số sản phẩm được công nhận OCOP từ Nghị quyết 04 (cam sành)"
        " {{ f.NQ04_OCOP_PRODUCTS }} sản phẩm."
    ),
    tb.h2("2.3. Kết quả từng nội dung"),
    tb.p("- Kết quả triển khai Nghị quyết số 05"),
    tb.p(
        "+ Nguồn vốn giải ngân {{ f.NQ05_DISBURSED }} triệu đồng (năm 2021 là"
        " {{ fy[2021].NQ05_DISBURSED_HOUSEHOLDS }} hộ/{{ fy[2021].NQ05_DISBURSED }} triệu đồng;"
        " năm 2022 là {{ fy[2022].NQ05_DISBURSED_HOUSEHOLDS }} hộ/{{ fy[2022].NQ05_DISBURSED }}"
        " triệu đồng, {{ fy[2022].NQ05_DISBURSED.change(1) }}). Tổng nguồn lực của các tổ"
        " chức, cá nhân hỗ trợ trực tiếp hộ gia đình quy ra kinh phí"
        " {{ f.NQ05_DIRECT_SUPPORT }} triệu đồng."
    ),
    tb.p("+ Diện tích thực hiện {{ f.NQ05_AREA }} ha."),
    tb.p(
        "+ Kết quả triển khai với đối tượng được hưởng Nghị quyết:"
        " {{ f.NQ05_TARGET_GROUP_HOUSEHOLDS }} hộ/{{ f.NQ05_TARGET_GROUP_AREA }} ha."
    ),
    tb.p(
        "+ Hiệu quả: Tổng số vườn {{ f.NQ05_GARDENS }} vườn/tổng thu nhập là"
        " {{ f.NQ05_GARDEN_INCOME }} triệu đồng, cao gấp {{ f.NQ05_INCOME_MULTIPLE }} lần so"
        " với trước (bình quân {{ f.NQ05_AVERAGE_INCOME }} triệu đồng/hộ/năm); số lao động"
        " được giải quyết việc làm ổn định {{ f.NQ05_STABLE_JOBS }} người."
    ),
    tb.n("results_nq05"),
    tb.p("- Kết quả triển khai Nghị quyết số 04"),
    tb.p(
        "+ Tổng kinh phí giải ngân {{ f.NQ04_DISBURSED }} triệu đồng (đạt"
        " {{ f.NQ04_DISBURSED.percent_of(f.NQ04_CAPITAL_PLAN, 2) }} kế hoạch)."
    ),
    tb.p(
        "+ Các cá nhân vay vốn đầu tư nâng cao chất lượng cam sành"
        " {{ f.NQ04_LOAN_HOUSEHOLDS }} hộ/{{ f.NQ04_LOAN_AREA }} ha (đạt"
        " {{ f.NQ04_LOAN_AREA.of_phase_target(1) }} so với chỉ tiêu giai đoạn 2021 - 2025)."
    ),
    tb.n("support_nq04"),
    tb.p(
        "+ Hiệu quả: Thu nhập bình quân từ {{ f.NQ04_INCOME_BEFORE_PER_HA }} triệu đồng lên"
        " {{ f.NQ04_INCOME_PER_HA }} triệu đồng/ha; tạo việc làm ổn định quanh năm cho khoảng"
        " {{ f.NQ04_STABLE_JOBS }} người; tạo điều kiện thuận lợi cho người dân phát triển"
        " kinh tế trên mảnh đất của gia đình."
    ),
    tb.p("- Các kết quả khác:"),
    tb.p(
        "+ Tập huấn, chuyển giao tiến bộ kĩ thuật {{ f.HG_TRAINING_CLASSES }} lớp/"
        "{{ f.HG_TRAINING_PARTICIPANTS }} lượt người tham gia."
    ),
    tb.n("other_results"),
    tb.p(
        "+ Công tác xúc tiến thương mại sản phẩm cam sành Hà Giang đã được công bố trên sàn"
        " giao dịch điện tử. Sản lượng bình quân các nhà vườn xuất bán vào các siêu thị lớn"
        " từ {{ f.NQ04_SUPERMARKET_SALES }} tấn cam sành/năm."
    ),
    tb.h2("2.4. Một số mô hình, cách làm hay"),
    tb.n("good_models"),
    tb.p(
        "- Huyện Đồng Văn liên kết tiêu thụ sản phẩm các HTX, THT cam kết thu mua sản phẩm"
        " nông sản sản xuất rau sạch chuyên canh/{{ f.HG_CLEAN_VEGETABLE_COMMUNES }} xã, thị"
        " trấn, trồng cây ăn quả tập trung gắn với du lịch nông nghiệp."
    ),
    tb.p(
        "- Huyện Xín Mần: Công ty Vietnam Misaki liên kết với các hộ cải tạo vườn tạp trồng"
        " {{ f.HG_EXPORT_VEGETABLE_AREA }} ha rau, củ, quả, tạo vùng nguyên liệu cho Công ty"
        " xuất khẩu sang Nhật Bản; Công ty Cổ phần Nông nghiệp tốt - Phú Thọ tổ chức trồng mở"
        " rộng {{ f.HG_SUPERMARKET_VEGETABLE_AREA }} ha rau cải các loại gắn liên kết bao tiêu"
        " sản phẩm tiêu thụ các siêu thị ở thành phố Hà Nội."
    ),
]

HA_GIANG_NARRATIVE = {
    "advantages_difficulties": (
        "Thuận lợi, khó khăn",
        "Về thuận lợi: (1) được sự quan tâm lãnh đạo, chỉ đạo sát sao của các cấp ủy Đảng từ"
        " tỉnh đến huyện, tổ chức cơ sở đảng và chi bộ trực thuộc Đảng bộ cơ sở; (2) các ngành"
        " và địa phương đều xây dựng kế hoạch học tập, quán triệt; tổ chức triển khai và xây"
        " dựng chương trình hành động sát với tình hình địa phương, đơn vị; (3) sự lãnh, chỉ"
        " đạo quyết liệt, sự quan tâm của cả hệ thống chính trị từ tỉnh đến cơ sở, sự vào cuộc"
        " của cấp ủy, chính quyền địa phương, sự hưởng ứng, đồng thuận của các tổ chức chính"
        " trị - xã hội và tầng lớp nhân dân tham gia thực hiện.\n"
        "Về khó khăn: (1) việc tổ chức nghiên cứu, quán triệt Nghị quyết, nhất là ở cấp cơ sở"
        " không nhiều, lồng ghép nhiều nội dung trong một hội nghị nên hiệu quả việc tiếp thu"
        " nội dung Nghị quyết chưa cao, còn gặp nhiều lúng túng; (2) ngân sách địa phương còn"
        " khó khăn, vì vậy việc bố trí ngân sách để thực hiện ủy thác chưa đáp ứng nhu cầu.",
    ),
    "leadership": (
        "Công tác lãnh đạo, chỉ đạo",
        "- BTV Tỉnh ủy quyết định thành lập Ban chỉ đạo cấp tỉnh.\n"
        "- Hội đồng nhân dân tỉnh đã ban hành Nghị quyết số 58/2020/NQ-HĐND ngày 09/12/2020.\n"
        "- UBND tỉnh: Ban hành các Quyết định, Hướng dẫn, Kế hoạch phát động và tổ chức phát"
        " động, triển khai thí điểm Đề án; đồng thời thành lập Tổ giúp việc cho cơ quan Thường"
        " trực Ban chỉ đạo cấp tỉnh.",
    ),
    "results_nq05": (
        "Hiệu quả Nghị quyết 05",
        "Thay đổi nhận thức về tập quán sản xuất của người dân từ tự cung, tự cấp sang tư duy"
        " sản xuất hàng hóa gắn với liên kết sản xuất, bao tiêu sản phẩm; nhiều hộ gia đình"
        " thực hiện cải tạo vườn tạp đã giải quyết được nguồn cung cấp thực phẩm xanh cho hộ"
        " gia đình, cải thiện dinh dưỡng bữa ăn hàng ngày, đời sống gia đình từng bước thay"
        " đổi rõ rệt so với trước kia.",
    ),
    "support_nq04": (
        "Kết quả hỗ trợ Nghị quyết 04",
        "+ Kết quả hỗ trợ: Bảo tồn gen, nhân giống tốt và chuyển giao kỹ thuật; quảng bá,"
        " tiêu thụ sản phẩm, xây dựng đầu tư nhà máy chế biến cam sành.",
    ),
    "other_results": (
        "Các kết quả khác",
        "Nội dung tập huấn: phổ biến cơ chế chính sách về cải tạo vườn tạp, phát triển bền"
        " vững cây cam sành; hướng dẫn tư vấn kỹ thuật cho người dân, cách thức quy hoạch, bố"
        " trí cơ cấu cây trồng vật nuôi, tư vấn kỹ thuật.",
    ),
    "good_models": (
        "Mô hình, cách làm hay",
        "- Công tác lãnh đạo, chỉ đạo triển khai một số huyện: Vị Xuyên, Bắc Quang, Yên Minh,"
        " Hoàng Su Phì bài bản, linh hoạt, sát thực tiễn.\n"
        "- Các huyện Bắc Quang, Vị Xuyên, Bắc Mê liên kết trồng ngô sinh khối với Công ty TNHH"
        " Đầu tư và Thương mại Hương Hà, tỉnh Tuyên Quang.",
    ),
    "achievements": (
        "Kết quả đạt được",
        "- Ban Chỉ đạo các cấp luôn quyết liệt, sâu sát trong công tác lãnh đạo, chỉ đạo tổ"
        " chức thực hiện. Các ngành các cấp, các tổ chức chính trị xã hội đều chung tay góp"
        " công, góp sức để thực hiện.\n"
        "- Công tác tham mưu ban hành các văn bản kiểm tra kịp thời, hiệu quả.\n"
        "- Nghị quyết được ban hành đã đi vào cuộc sống mà một số hộ gia đình có việc làm ổn"
        " định; cho thu nhập và đảm bảo cuộc sống sinh hoạt hàng ngày.\n"
        "- Nghị quyết có tác động rất lớn đến tiêu chí kinh tế và tổ chức sản xuất; môi trường"
        " trong việc tổ chức thực hiện xây dựng nông thôn mới.",
    ),
    "limitations": (
        "Hạn chế, vướng mắc, nguyên nhân",
        "- Còn trông chờ, ỷ lại vào sự giúp đỡ của chính quyền, các tổ chức chính trị xã hội,"
        " chưa chủ động tự lực trong thực hiện cải tạo vườn.\n"
        "- Chất lượng vườn chưa cao, công tác tổ chức thực hiện, kiểm tra giám sát chưa duy"
        " trì thường xuyên, liên tục.\n"
        "- Giá vật tư đầu vào cho sản xuất nông nghiệp tăng cao, tăng 30-40% giá. Dịch"
        " Covid-19 lại bùng phát trở lại, dịch tả lợn châu Phi làm ảnh hưởng đến đời sống cũng"
        " như sản xuất của các hộ dân.\n"
        "- Quá trình triển khai các tổ chức (các HTX) của 3 huyện trồng cam không đủ điều kiện"
        " vay vốn do chưa hoạt động theo đúng quy định; không có tài sản thế chấp; không có trụ"
        " sở cố định… nên các tổ chức không được vay vốn nâng cao chất lượng cây cam sành.\n"
        "- Hệ thống cơ sở hạ tầng một số xã vùng cam còn kém, khó khăn trong công tác vận"
        " chuyển vật tư cũng như sản phẩm nông nghiệp sau thu hoạch.\n"
        "- Một số hộ đăng ký vay nhưng diện tích đất trồng cam lại không nằm trong xã đăng ký"
        " hộ khẩu thường trú nên không tiếp cận được nguồn vốn vay theo Nghị quyết.\n"
        "- Chính sách hỗ trợ bảo tồn gen, nhân giống tốt và chuyển giao kỹ thuật; hỗ trợ quảng"
        " bá, tiêu thụ sản phẩm Cam Sành: Chưa thực hiện hỗ trợ, nguyên nhân do các tổ chức,"
        " cá nhân không hoàn thiện các thủ tục theo quy định tại Hướng dẫn 51/HD-UBND ngày"
        " 12/01/2021 của UBND tỉnh.\n"
        "- Chưa thu hút được tổ chức, cá nhân thực sự tâm huyết và đủ mạnh để đầu tư xây dựng"
        " nhà máy bảo quản, chế biến.\n"
        "- Diện tích cam đang xuất hiện hiện tượng cây bị vàng lá, thối rễ ảnh hưởng rất lớn"
        " đến sinh trưởng và phát triển của cây cam.",
    ),
    "tasks": (
        "Nhiệm vụ thời gian tới",
        "- Đẩy mạnh việc tuyên truyền Nghị quyết, chính sách, cơ chế hỗ trợ, lợi ích và sự cần"
        " thiết của cải tạo vườn, phát triển bền vững cây cam sành đến toàn thể cán bộ đảng"
        " viên và nhân dân nhằm nâng cao nhận thức và tạo sự đồng thuận, chủ động thực hiện"
        " của nhân dân trong cải tạo vườn tạp, phát triển kinh tế vườn hộ.\n"
        "- Tăng cường công tác lãnh đạo của cấp ủy, chính quyền; phân công trách nhiệm cụ thể"
        " cho từng tổ chức, cá nhân trong việc thực hiện Nghị quyết, đặc biệt là ngành chuyên"
        " môn.\n"
        "- Làm tốt công tác kiểm tra, giám sát, công tác tổng kết thực hiện Nghị quyết.\n"
        "- Giải quyết kịp thời các vấn đề nhân dân quan tâm tại cơ sở.\n"
        "- Chủ động khai thác, vận động hỗ trợ của các tổ chức, cá nhân; tranh thủ các nguồn"
        " hỗ trợ từ chính sách để tập trung triển khai thực hiện.",
    ),
    "proposals": (
        "Đề xuất, kiến nghị với UBND tỉnh",
        "- Tổ chức đánh giá 02 năm thực hiện Nghị quyết để tháo gỡ những khó khăn, vướng mắc"
        " trong quá trình tổ chức triển khai thực hiện, đồng thời tham mưu cho Tỉnh ủy tổng kết"
        " đánh giá công tác lãnh chỉ đạo, rút kinh nghiệm.\n"
        "- Chỉ đạo các sở, ngành của tỉnh: Tiếp tục tham mưu tổ chức triển khai thực hiện các"
        " nội dung được phân công theo Đề án của UBND tỉnh ban hành.\n"
        "- Chỉ đạo UBND các huyện, thành phố: Tiếp tục tăng cường công tác lãnh chỉ đạo và tổ"
        " chức thực hiện các nội dung 02 Nghị quyết; nghiên cứu nhân rộng mô hình cải tạo vườn"
        " tạp, mở rộng các đối tượng, hình thành vùng sản xuất tập trung có liên kết đầu"
        " vào/đầu ra sản phẩm để duy trì bền vững chương trình.",
    ),
}

ALLIANCE_NARRATIVE = {
    "direction": (
        "Công tác chỉ đạo, hướng dẫn",
        "- Công tác chỉ đạo, hướng dẫn các địa phương, triển khai thực hiện chương trình theo"
        " chức năng, nhiệm vụ quản lý của cơ quan: Liên minh HTX chủ động phối hợp với các sở,"
        " ban ngành liên quan, UBND các huyện, thị xã, thành phố thực hiện tốt công tác chỉ đạo"
        " hướng các nhiệm vụ trọng tâm hàng năm, tổ chức tốt vai trò bà đỡ hỗ trợ cho kinh tế"
        " hộ, kinh tế trang trại phát triển, thực hiện tốt công tác đào tạo bồi dưỡng tập huấn;"
        " ngoài thực hiện các nguồn kinh phí phân bổ của UBND tỉnh, Liên minh HTX tỉnh đã chủ"
        " động phối hợp Liên minh HTX Việt Nam để tổ chức đào tạo, bồi dưỡng cán bộ quản lý"
        " HTX, huy động nguồn lực hỗ trợ HTX đầu tư trang thiết bị phát triển các chuỗi giá trị"
        " sản phẩm.\n"
        "- Tại Quyết định số 3110/QĐ-UBND ngày 07/12/2016 của UBND tỉnh Quảng Trị về việc thành"
        " lập Ban chỉ đạo các Chương trình mục tiêu quốc gia tỉnh Quảng Trị giai đoạn 2016-2020,"
        " Chủ tịch Liên minh Hợp tác xã là thành viên Ban chỉ đạo; tại Quyết định số"
        " 1763/QĐ-UBND ngày 28/6/2017 của UBND tỉnh Quảng Trị về phân công nhiệm vụ phụ trách"
        " thực hiện tiêu chí huyện, xã nông thôn mới giai đoạn 2017-2020 thì Liên minh HTX không"
        " được phân công nhiệm vụ phụ trách các tiêu chí và chỉ được phân công nhiệm vụ phối"
        " hợp với Sở NN-PTNT thực hiện tiêu chí số 13. Vì vậy không phát huy được vai trò của"
        " Liên minh HTX trong quá trình thực hiện các nhiệm vụ trọng tâm của công tác xây dựng"
        " nông thôn mới, nhất là chỉ đạo, vận động thực hiện tiêu chí 13.\n"
        "- Công tác đỡ đầu, phụ trách các xã: Hiện đang xây dựng kế hoạch hành động tổng thể"
        " nhu cầu đầu tư và hỗ trợ các xã được phân công.\n"
        "Bên cạnh đó, thực hiện Quyết định số 1841/QĐ-UBND ngày 14/7/2020 của UBND tỉnh phân"
        " công địa bàn phụ trách, đỡ đầu xây dựng nông thôn mới, Liên minh HTX tỉnh đã thành lập"
        " tổ công tác đỡ đầu cho xã phụ trách tại Quyết định 225/QĐ-LMHTX ngày 06/11/2020 đã gửi"
        " cho Văn phòng điều phối.",
    ),
    "criteria": ("Kết quả thực hiện các tiêu chí", "Không được phân công."),
    "investment": (
        "Đầu tư, hỗ trợ lồng ghép",
        "Năm 2020 kêu gọi nguồn hỗ trợ đầu tư của Liên minh HTX Việt Nam hỗ trợ HTX Văn Quỹ đầu"
        " tư trang thiết bị phát triển chuỗi giá trị gạo.",
    ),
    "disbursement": (
        "Giải ngân vốn sự nghiệp",
        "Nguyên nhân giải ngân chậm: do ảnh hưởng dịch Covid-19 nên công tác xúc tiến thương"
        " mại chưa tổ chức hoạt động theo kế hoạch.",
    ),
    "difficulties": (
        "Khó khăn, tồn tại, kiến nghị",
        "- Mặc dù trong phân công nhiệm vụ phối hợp tại Quyết định số 1763/QĐ-UBND ngày"
        " 28/6/2017 của UBND tỉnh Quảng Trị, Liên minh HTX tỉnh là đơn vị phối hợp triển khai"
        " tiêu chí số 13, nhưng trên thực tế các nội dung công việc triển khai và đánh giá chất"
        " lượng thực hiện tiêu chí số 13 Liên minh HTX tỉnh không được tham gia trong quá trình"
        " chỉ đạo xây dựng và thẩm định đánh giá kết quả hoạt động HTX. Do vậy Liên minh HTX"
        " tỉnh chỉ tập trung thực hiện các nhiệm vụ của Liên minh.\n"
        "- Một số xã đạt được công nhận xã đạt nông thôn mới nhưng vẫn còn nợ tiêu chí 13 hoặc"
        " chất lượng đạt rất thấp.\n"
        "- Việc xây dựng phát triển HTX ở miền núi đang gặp nhiều khó khăn, nhận thức một số"
        " cán bộ đảng viên về vai trò, vị trí HTX trong xây dựng phát triển kinh tế - xã hội"
        " gắn với xây dựng nông thôn mới đang còn nhiều hạn chế.\n"
        "- Chính sách hỗ trợ cho khu vực kinh tế tập thể rất hạn chế, công tác đào tạo tập huấn"
        " không thống nhất, chủ yếu giao cho Sở NN-PTNT thực hiện; chính sách hỗ trợ cơ sở hạ"
        " tầng không được quan tâm hỗ trợ đầu tư, chính sách đất đai chưa được giải quyết dứt"
        " điểm, chính sách tín dụng đang còn nhiều vướng mắc về cơ chế.\n"
        "- Công tác tư vấn hỗ trợ về khai thác tốt các sản phẩm hàng hóa chủ lực của địa phương"
        " chưa được quan tâm đúng mức.\n"
        "- Công tác dồn điền đổi thửa vùng sản xuất cây lương thực vẫn còn chậm, ruộng đất"
        " manh mún, việc tích tụ ruộng đất cho sản xuất hàng hóa tập trung quy mô lớn còn bất"
        " cập, kết quả thu hút doanh nghiệp vào nông nghiệp, nông thôn còn hạn chế.\n"
        "- Một số HTX chưa chủ động tự thay đổi để vươn lên, đang còn trông chờ vào sự hỗ trợ"
        " của Nhà nước.\n"
        "- Trình độ cán bộ quản lý HTX thấp, đa số là cán bộ làm việc bằng kinh nghiệm, thiếu"
        " cán bộ trẻ, cán bộ hiểu biết về thị trường.",
    ),
    "objectives": (
        "Mục tiêu",
        "- Tiếp tục thực hiện tốt chức năng, nhiệm vụ của Liên minh HTX tỉnh về các hoạt động"
        " liên quan đến xây dựng nông thôn mới.\n"
        "- Xây dựng hoàn thiện kế hoạch nhu cầu các xã đỡ đầu, phụ trách.",
    ),
    "solutions": (
        "Nhiệm vụ và giải pháp",
        "Tiếp tục phát huy vai trò bà đỡ của Liên minh HTX tỉnh trong công tác tuyên truyền và"
        " tư vấn, hỗ trợ cho các HTX tiếp cận tốt các chủ trương chính sách của Nhà nước về phát"
        " triển kinh tế tập thể, nhất là hỗ trợ tư vấn các HTX chủ động xây dựng các đề án kêu"
        " gọi hỗ trợ đầu tư bên ngoài vào hợp tác xã theo chuỗi giá trị sản phẩm hàng hóa HTX đã"
        " lựa chọn, góp phần tích cực trong quá trình chuyển dịch cơ cấu của địa phương.\n"
        "Tiếp tục vận động thành lập mới HTX theo chuỗi giá trị hoặc tổ chức lại hoạt động các"
        " làng nghề truyền thống nhằm nâng cao chất lượng dịch vụ và tạo ra các sản phẩm mới phù"
        " hợp với nhu cầu của thị trường nhưng vẫn đảm bảo giá trị truyền thống của địa"
        " phương.\n"
        "Đẩy mạnh công tác tuyên truyền, hỗ trợ tư vấn cho các HTX thực hiện tốt xây dựng HTX"
        " kiểu mới gắn với chuỗi giá trị sản phẩm hàng hóa chủ lực của địa phương.\n"
        "Sản xuất hàng hóa nông sản theo tiêu chuẩn OCOP, trọng tâm là chuyển đổi phương thức"
        " sản xuất từ “sản xuất sản phẩm phục vụ tiêu dùng” sang “sản xuất hàng hóa theo nhu"
        " cầu thị trường”.\n"
        "Đẩy mạnh liên kết theo chuỗi giá trị theo các hình thức liên kết theo Nghị định"
        " 98/2018/NĐ-CP về chính sách khuyến khích phát triển hợp tác, liên kết trong sản xuất"
        " và tiêu thụ sản phẩm nông nghiệp.\n"
        "Tập trung huy động các nguồn lực để thực hiện có hiệu quả Chương trình; tranh thủ các"
        " nguồn vốn hỗ trợ của Trung ương, huy động tối đa nguồn lực của địa phương, tăng cường"
        " thu hút các nguồn đỡ đầu, tài trợ của các tổ chức, cá nhân để ưu tiên các xã đăng ký"
        " đạt chuẩn sớm, xã vùng đặc biệt khó khăn.",
    ),
}


def _narrative(sections: dict, unit: str, approved_by: str, approved_at: str) -> list[dict]:
    return [
        {
            "key": key,
            "title": title,
            "unit": unit,
            "text": text,
            "approved_by": approved_by,
            "approved_at": approved_at,
        }
        for key, (title, text) in sections.items()
    ]


HA_GIANG_ANNEXES = [
    {
        "title": "Kết quả giải ngân vốn Nghị quyết 04/NQ-TU theo huyện",
        "level": "district",
        "columns": [{"indicator": "NQ04_DISBURSED", "plan": "NQ04_CAPITAL_PLAN"}],
        "only_with_data": True,
    },
    {
        "title": "Kết quả thực hiện Nghị quyết 05/NQ-TU theo xã",
        "level": "commune",
        "columns": [
            {"indicator": "NQ05_DISBURSED"},
            {"indicator": "NQ05_AREA"},
            {"indicator": "NQ05_GARDENS"},
        ],
        "only_with_data": True,
    },
]


def build_ha_giang_template() -> bytes:
    return tb.build_template(
        tb.programme_results_body(HA_GIANG_RESULTS),
        annexes=True,
        title="Báo cáo tóm tắt kết quả thực hiện Nghị quyết 04/NQ-TU và 05/NQ-TU",
    )


def load_demo_reports() -> list[ReportDefinition]:
    """Create or refresh the two demo definitions and Hà Giang's adapted template."""
    ensure_shipped_templates()
    ha_giang = resolve_unit("02")
    alliance = resolve_unit("45.LMHTX")
    data = build_ha_giang_template()
    digest = content_digest(data)
    if not ReportTemplate.objects.filter(
        kind=TemplateKind.PROGRAMME_RESULTS, unit=ha_giang, digest=digest
    ).exists():
        latest = (
            ReportTemplate.objects.filter(kind=TemplateKind.PROGRAMME_RESULTS, unit=ha_giang)
            .order_by("-version")
            .first()
        )
        ReportTemplate.objects.filter(kind=TemplateKind.PROGRAMME_RESULTS, unit=ha_giang).update(
            active=False
        )
        ReportTemplate.objects.create(
            kind=TemplateKind.PROGRAMME_RESULTS,
            unit=ha_giang,
            name="Báo cáo tóm tắt kết quả thực hiện Nghị quyết (mẫu của tỉnh Hà Giang)",
            version=(latest.version + 1) if latest else 1,
            content=data,
            digest=digest,
            note="Tỉnh điều chỉnh từ mẫu của hệ thống: câu chữ quanh các số liệu NQ 04, 05.",
        )

    definitions = []
    hg, _ = ReportDefinition.objects.update_or_create(
        slug="hagiang-nq04-nq05-2022",
        defaults={
            "title": "Báo cáo tóm tắt kết quả thực hiện Nghị quyết 04/NQ-TU và 05/NQ-TU",
            "kind": TemplateKind.PROGRAMME_RESULTS,
            "unit": ha_giang,
            "period": "2021-2025",
            "parent_agency": "UBND tỉnh Hà Giang",
            "issuing_agency": "Ban Chỉ đạo cấp tỉnh",
            "number": "",
            "symbol": "BC-BCĐ",
            "place": "Hà Giang",
            "issued_on": date(2022, 11, 15),
            "doc_title": "Báo cáo tóm tắt",
            "summary": (
                "Kết quả thực hiện Nghị quyết số 04/NQ-TU, ngày 01/12/2020 của Ban Chấp hành"
                " Đảng bộ tỉnh về phát triển bền vững cây Cam Sành; Nghị quyết số 05/NQ-TU, ngày"
                " 01/12/2020 về cải tạo vườn tạp, phát triển kinh tế vườn hộ để tạo sinh kế cho"
                " người dân giảm nghèo bền vững giai đoạn 2021-2025, định hướng đến năm 2030"
            ),
            "basis": "",
            "signer_capacity": "KT.",
            "signing_for": "Trưởng ban",
            "signer_title": "Phó Trưởng ban",
            "signer_name": "Trần Thị Lãnh Đạo",
            "recipients": [
                "Thường trực Tỉnh ủy (b/c);",
                "Thường trực HĐND, UBND tỉnh;",
                "Thành viên Ban Chỉ đạo;",
                "UBND các huyện, thành phố;",
                "Lưu: VT, BCĐ.",
            ],
            "options": {"annexes": HA_GIANG_ANNEXES},
            "narrative_request": "",
            "narrative": _narrative(
                HA_GIANG_NARRATIVE, "02", "Nguyễn Văn Điều Phối (bcd.hagiang)", "2022-11-10"
            ),
        },
    )
    hg.programmes.set(Programme.objects.filter(code__in=["HG-NQ04", "HG-NQ05", "HG-NQ04-05"]))
    definitions.append(hg)

    qt, _ = ReportDefinition.objects.update_or_create(
        slug="quangtri-lmhtx-ntm-2020",
        defaults={
            "title": "Báo cáo kết quả thực hiện Chương trình MTQG xây dựng nông thôn mới năm 2020",
            "kind": TemplateKind.AGENCY_NTM_ANNUAL,
            "unit": alliance,
            "period": "2020",
            "parent_agency": "",
            "issuing_agency": "Liên minh Hợp tác xã tỉnh Quảng Trị",
            "number": "",
            "symbol": "BC-LMHTX",
            "place": "Quảng Trị",
            "issued_on": date(2020, 11, 16),
            "doc_title": "Báo cáo",
            "summary": "Kết quả thực hiện Chương trình MTQG xây dựng nông thôn mới năm 2020",
            "basis": (
                "Thực hiện Công văn số 228/VPĐP-NTM ngày 09/11/2020 của Văn phòng điều phối nông"
                " thôn mới về báo cáo kết quả thực hiện Chương trình MTQG xây dựng nông thôn mới"
                " năm 2020. Liên minh Hợp tác xã tỉnh Quảng Trị báo cáo kết quả như sau:"
            ),
            "signer_capacity": "TM.",
            "signing_for": "Liên minh Hợp tác xã",
            "signer_title": "Chủ tịch",
            "signer_name": "Cấp Kim Thành",
            "recipients": ["VPĐP nông thôn mới;", "Lưu: VT."],
            "options": {"allocation_basis": "Quyết định 3771/QĐ-UBND ngày 31/12/2019"},
            "narrative_request": "228/VPĐP-NTM",
            "narrative": _narrative(
                ALLIANCE_NARRATIVE, "45.LMHTX", "Cấp Kim Thành (lmhtx.quangtri)", "2020-11-16"
            ),
        },
    )
    qt.programmes.set(Programme.objects.filter(code="NTM-2016-2020"))
    definitions.append(qt)
    return definitions
