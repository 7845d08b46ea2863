import pytest
from vista_tasks.benchmarks import DocVQA, InfographicVQA


def test_docvqa_reads_the_task1_release_and_scores_anls(tmp_path, fx):
    fx.write_json(tmp_path / "val" / "val_v1.0_withQT.json", {
        "dataset_name": "docvqa", "dataset_split": "val", "dataset_version": "1.0", "data": [
            {"questionId": 49153, "question": "What is the ‘actual’ value per 1000, during the year 1975?",
             "question_types": ["figure/diagram"], "image": "documents/pybv0228_81.png", "docId": 14465,
             "ucsf_document_id": "pybv0228", "ucsf_document_page_no": "81", "answers": ["0.28"],
             "data_split": "val"},
            {"questionId": 24580, "question": "What is name of university?", "question_types": ["others"],
             "image": "documents/nkbl0226_1.png", "docId": 2, "ucsf_document_id": "nkbl0226",
             "ucsf_document_page_no": "1", "answers": ["university of california", "University of California"],
             "data_split": "val"}]})
    fx.write_png(tmp_path / "val" / "documents" / "pybv0228_81.png")
    fx.write_png(tmp_path / "val" / "documents" / "nkbl0226_1.png")
    task = DocVQA()
    value, university = fx.assert_task_checks(task, tmp_path, "val")
    assert task.score("0.28", value) == 1.0
    assert task.score("University of Californa", university) == pytest.approx(1 - 1 / 24)
    assert task.score("Stanford", university) == 0.0


def test_infographicvqa_reads_the_release_and_scores_anls(tmp_path, fx):
    fx.write_json(tmp_path / "infographicsvqa_qas" / "infographicsVQA_val_v1.0.json", {
        "dataset_name": "infographicsVQA", "dataset_version": "1.0", "dataset_split": "val", "data": [
            {"questionId": 65718, "question": "What percentage of people are vaccinated?",
             "image_local_name": "37313.jpeg", "image_url": "https://example.org/37313.jpeg",
             "ocr_output_file": "37313.json", "answers": ["64%", "64"], "data_split": "val",
             "answer_type": ["single span"], "evidence": ["text"], "operation/reasoning": []}]})
    fx.write_png(tmp_path / "infographicsvqa_images" / "37313.jpeg")
    task = InfographicVQA()
    (example,) = fx.assert_task_checks(task, tmp_path, "val")
    assert example.metadata["answers"] == ["64%", "64"]
    assert task.score("64", example) == 1.0 and task.score("46%", example) == 0.0


def test_docvqa_reads_the_hugging_face_parquet_layout(tmp_path, fx):
    fx.write_parquet(tmp_path / "DocVQA" / "validation-00000-of-00001.parquet", [
        {"questionId": "1", "question": "What is the date?", "question_types": ["form"], "docId": 1,
         "ucsf_document_id": "x", "ucsf_document_page_no": "1", "answers": ["May 5, 1975"],
         "data_split": "val", "image": {"bytes": fx.png_bytes(), "path": None}}])
    (example,) = fx.assert_task_checks(DocVQA(), tmp_path, "val")
    assert example.answer == "May 5, 1975"
