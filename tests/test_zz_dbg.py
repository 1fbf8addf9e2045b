import pytest
from tests.cases_support import decided
from integrity.letters import generate_letter
pytestmark = pytest.mark.django_db
def test_dbg(county):
    case = decided(county, reason="经调查，被处理人在2026年度县级科技计划项目申报中提供伪造的专利证书，情节较重。")
    open("/tmp/letter.pdf","wb").write(bytes(generate_letter(case.letter.pk).pdf))
