"""Segment Explainer in the browser: a thin Gradio front end over the library.

Run ``python app.py`` (host and port follow GRADIO_SERVER_NAME / GRADIO_SERVER_PORT).
Every visitor's work lives in their own ``gr.State`` (an ``AppSession``); handlers take it
in and return it. Files go to a per-visitor temp folder that is removed when they leave.
Errors a visitor can cause arrive as ``gr.Error`` with the library's plain message.
"""
from __future__ import annotations

import functools
import html
import logging

import gradio as gr
import pandas as pd
from gradio.utils import get_upload_folder

import app_session as sup
from explainers import plots
from explainers.chat.engine import MAX_QUESTION_CHARS, question_too_long
from explainers.format import md_escape
from segmenter.errors import SegmenterError

log = logging.getLogger("segment_explainer.app")

TITLE = "Segment Explainer"
INTRO = ("Find customer segments you can understand and trust. The demo table is loaded and "
         "segmented for you; upload your own table on the **Data** tab, then work left to right.")
GENERIC_ERROR = ("Something went wrong on our side while doing that. Please try again; if it keeps "
                 "happening, reload the page or try a smaller table.")
LLM_ON = ("An LLM is configured: it words the answers, but every number comes from your segments' "
          "statistics and is checked against them.")
LLM_OFF = ("No LLM is configured: answers are computed straight from your segments' statistics "
           "(everything works without one).")
CHAT_DOWN = "The chat could not start for these segments; every other tab works. Try reloading the page."
UPLOAD_TYPES = None  # any file reaches the loader, which says what a wrong one is ("an image (PNG)")
#: Gradio's upload folder: uploads land here and are deleted once read; each visitor's files
#: (downloads) live in a folder of their own under it, removed when they leave (``on_unload``).
FILES_BASE = get_upload_folder()
DOWNLOADS = (("personas.html", "Persona cards (HTML)"), ("personas.md", "Persona cards (Markdown)"),
             ("assignments.csv", "Segment of every customer (CSV)"), ("report.json", "Full report (JSON)"),
             ("model.skops", "Fitted model (skops)"))
HEAVY = "heavy"  # concurrency group of the CPU-bound steps
CSS = """
.gradio-container { max-width: min(1180px, 100vw) !important; min-width: 0 !important; margin: auto; }
.gradio-container .tabs, .gradio-container .tabitem, .gradio-container .column { min-width: 0; }
@media (max-width: 640px) {
  .gradio-container { padding: 4px !important; }
  .tab-container button { padding: 4px 7px !important; font-size: 14px !important; }
}
"""


def friendly(fn):
    """Turn our errors into gr.Error with their message; anything else into a generic one."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except SegmenterError as exc:  # gr.Error renders HTML; our messages quote table text
            raise gr.Error(html.escape(str(exc), quote=False), print_exception=False) from exc
        except Exception as exc:
            log.exception("unexpected error in %s", fn.__name__)
            raise gr.Error(GENERIC_ERROR, print_exception=False) from exc
    return wrapper


def need(session: sup.AppSession | None) -> sup.AppSession:
    if session is None:
        raise gr.Error("No table is loaded yet: press 'Use the demo data' or upload a file on the Data tab.")
    return session


# ---------------------------------------------------------------- data tab
def data_view(session: sup.AppSession):
    cols = [str(c) for c in session.table.columns]
    ch, schema = session.choices, session.schema
    id_value = schema.id_column or sup.NO_ID
    types = ", ".join(f"{md_escape(c)} → {k}" for c, k in ch.types.items()) or "none"
    return (session, sup.data_summary(session), sup.preview(session.table), sup.schema_rows(schema),
            gr.Dropdown(choices=[sup.NO_ID, *cols], value=id_value),
            gr.Dropdown(choices=cols, value=list(ch.exclude)),
            gr.Dropdown(choices=cols, value=list(ch.features)),
            gr.Dropdown(choices=cols, value=None),
            sup.meaning_rows(session), ch.drop_implausible, sup.implausible_markdown(session),
            f"Type changes: {types}")


@friendly
def on_load_demo(progress=gr.Progress()):
    progress(0.1, "Making the demo table")
    return data_view(sup.demo_session())


@friendly
def on_upload(file, progress=gr.Progress()):
    if not file:
        raise gr.Error("No file arrived: choose a CSV, Parquet or Excel file.")
    progress(0.1, "Reading your file")
    try:
        return data_view(sup.upload_session(file))
    finally:
        sup.forget_upload(file, FILES_BASE)


def cleared(components, note_on=()) -> list:
    """Empty values for result components, so nothing of the previous table's results stays on
    screen after a new table is loaded; the components in ``note_on`` say why they are empty.
    Works on any component (a result view added later is cleared too)."""
    out = []
    for c in components:
        if c in note_on:
            out.append(sup.NO_RESULTS_YET)
        elif isinstance(c, (gr.Markdown, gr.HTML, gr.Textbox)):
            out.append("")
        elif isinstance(c, gr.Dropdown):
            out.append(gr.Dropdown(choices=[], value=None))
        elif isinstance(c, gr.DownloadButton):
            out.append(gr.DownloadButton(value=None, visible=c.visible))
        elif isinstance(c, gr.Dataset):
            out.append(gr.Dataset(samples=[]))
        elif isinstance(c, gr.Chatbot):
            out.append([])
        elif isinstance(c, gr.Dataframe):
            out.append(pd.DataFrame(columns=list(c.headers or [])))
        else:  # plots and anything else: empty
            out.append(None)
    return out


@friendly
def on_columns(id_column, exclude, features, session):
    session = need(session)
    return data_view(sup.with_choices(session, id_column, exclude, features, session.choices.types))


@friendly
def on_meanings(frame, drop_implausible, session):
    session = need(session)
    return data_view(sup.with_meanings(session, frame, drop_implausible))


@friendly
def on_propose(frame, session):
    session = need(session)
    return sup.propose_meanings(session, frame)


@friendly
def on_set_type(column, kind, session):
    session = need(session)
    types = sup.with_type(session, column, kind)
    ch = session.choices
    return data_view(sup.with_choices(session, ch.id_column, ch.exclude, ch.features, types))


# ---------------------------------------------------------------- segment & views
@friendly
def on_segment(algorithm, k, min_cluster_size, seed, session, progress=gr.Progress()):
    session = need(session)
    params = sup.segment_params(algorithm, k, min_cluster_size, seed)
    session = sup.run_analysis(session, params, progress=lambda f, m: progress(f, desc=m))
    report = session.report
    if (report.explanation or {}).get("low_fidelity"):
        gr.Warning("The explanation model matches these segments poorly: read the drivers with care.")
    return _with_chat(session), sup.summary_markdown(report), []


def _chat_engine(session: sup.AppSession) -> sup.AppSession:
    """The grounded chat engine of the current analysis (built once per analysis)."""
    if session.engine is None:
        from explainers.chat import ChatEngine

        session = session.replace(engine=ChatEngine.from_analysis(session.analysis))
    return session


def _with_chat(session: sup.AppSession) -> sup.AppSession:
    """Build the chat engine now; if it fails, every other tab still works (the chat says so)."""
    try:
        return _chat_engine(session)
    except Exception:
        log.exception("the chat engine could not start")
        return session


@friendly
def on_views(session, request: gr.Request, progress=gr.Progress()):
    """Refresh every tab after a new segmentation or a rename (reads the session, never changes it)."""
    session = need(session)
    report = session.report
    progress(0.2, "Drawing charts")
    choices = sup.segment_choices(report)
    first = choices[0][1] if choices else None
    progress(0.5, "Writing the files to download")
    files = sup.write_downloads(session.analysis, sup.session_dir(request.session_hash, FILES_BASE))
    engine = session.engine
    suggestions = [[q] for q in engine.suggested_questions(6)] if engine is not None else []
    example_id = str(report.assignments["id"].iloc[0]) if len(report.assignments) else ""
    chat_line = CHAT_DOWN if engine is None else (LLM_ON if engine.llm else LLM_OFF)
    return (sup.summary_markdown(report), sup.comparison_rows(report),
            plots.sizes_figure(report), plots.map_figure(report), sup.curve_figure(report),
            sup.fidelity_words(report).capitalize(), gr.Dropdown(choices=choices, value=first),
            *_segment_figures(report, first),
            gr.Textbox(placeholder=f"e.g. {example_id}"),
            sup.cards_html(report), gr.Dropdown(choices=choices, value=first),
            *[str(files[name]) for name, _ in DOWNLOADS],
            gr.Dataset(samples=suggestions), chat_line, sup.form_rows(session), *_more_views(report))


def _more_views(report):
    """The figures of :func:`more_views_block` (the dendrogram only for a Ward run)."""
    *figures, dendrogram = sup.analyst_figures(report)
    return (*figures, gr.Plot(value=dendrogram, visible=dendrogram is not None))


def _segment_figures(report, segment_id):
    if segment_id is None:
        return None, None
    return plots.drivers_figure(report, int(segment_id)), plots.comparison_figure(report, int(segment_id))


@friendly
def on_pick_segment(segment_id, session):
    return _segment_figures(need(session).report, segment_id)


@friendly
def on_cards(session):
    return sup.cards_html(need(session).report)


@friendly
def on_explain_customer(customer_id, session):
    return sup.explain_known(need(session), customer_id)


@friendly
def on_rename(segment_id, name, session):
    session = _with_chat(sup.rename(need(session), segment_id, name))
    gr.Info("Renamed: the new name now shows on every tab and in the downloads.")
    return session, ""


# ---------------------------------------------------------------- chat & predict
@friendly
def on_chat(message, history, session):
    message = str(message or "").strip()
    if len(message) > MAX_QUESTION_CHARS:  # refused before anything reads it
        raise gr.Error(question_too_long(len(message)), print_exception=False)
    session = need(session)
    if not message:
        raise gr.Error("Type a question first, or click one of the suggested questions.")
    sup.require_analysis(session)
    session = _chat_engine(session)
    if session.conversation is None:
        session = session.replace(conversation=session.engine.conversation())
    answer = session.conversation.ask(message)
    history = list(history or []) + [{"role": "user", "content": message},
                                     {"role": "assistant", "content": answer.text}]
    follow_ups = [[q] for q in (answer.suggestions or [])[:6]]
    return history, "", session, gr.Dataset(samples=follow_ups) if follow_ups else gr.Dataset()


@friendly
def on_suggestion(sample, history, session):
    return on_chat(sample[0] if sample else "", history, session)


@friendly
def on_predict_form(session):
    return sup.form_rows(need(session))


@friendly
def on_predict(form, session):
    session = need(session)
    session, result, problems = sup.predict(session, sup.table_from_form(form, session))
    return result, problems + sup.explain_predicted(session), session


@friendly
def on_predict_file(file, session, request: gr.Request, progress=gr.Progress()):
    session = need(session)
    if not file:
        raise gr.Error("No file arrived: choose a CSV, Parquet or Excel file of new customers.")
    progress(0.1, "Reading the new customers")
    try:
        table = sup.load_predict_file(file)
    finally:
        sup.forget_upload(file, FILES_BASE)
    session, result, problems = sup.predict(session, table)
    path = sup.predicted_csv(result, sup.session_dir(request.session_hash, FILES_BASE))
    return result.head(sup.RESULT_ROWS), gr.DownloadButton(value=str(path), visible=True), \
        problems + sup.explain_predicted(session), session


@friendly
def on_explain_predicted(customer_id, session):
    return sup.explain_predicted(need(session), customer_id)


def on_unload(request: gr.Request):
    """The visitor left: their files (downloads, predictions) go with them."""
    sup.remove_session_dir(request.session_hash, FILES_BASE)


# ---------------------------------------------------------------- layout
def more_views_block() -> list:
    """The analyst views under the comparison table of the Segment tab (filled by on_views)."""
    gr.Markdown(sup.COMPARISON_NOTE, elem_id="comparison-note")
    gr.Markdown("### More views\nThe whole table, every segment against the rest, and each segment's "
                "spread; groups of fewer than 5 customers are never shown as a number.")
    return [gr.Plot(label="Distribution of each column", elem_id="view-distributions"),
            gr.Plot(label="How the columns move together", elem_id="view-correlation"),
            gr.Plot(label="Every segment against the rest", elem_id="view-effects"),
            gr.Plot(label="Each segment's spread", elem_id="view-boxes"),
            gr.Plot(label="How Ward clustering merged the customers", elem_id="view-dendrogram", visible=False)]


def build_app() -> gr.Blocks:
    with gr.Blocks(title=TITLE, delete_cache=(3600, 3600)) as demo:
        session = gr.State(None)
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Tabs():
            with gr.Tab("1 Data", id="data"):
                with gr.Row():
                    demo_btn = gr.Button("Use the demo data", variant="secondary", min_width=160)
                    upload = gr.File(label="Or upload your table (CSV, Parquet, Excel)",
                                     file_types=UPLOAD_TYPES, type="filepath", height=140)
                gr.Markdown(f"One row per customer; up to {sup.MAX_UPLOAD_MB} MB and "
                            f"{sup.APP_LIMITS.max_rows:,} rows. Your file stays in your session only.")
                data_status = gr.Markdown("Loading the demo table…", elem_id="data-status")
                preview = gr.Dataframe(label=f"First {sup.PREVIEW_ROWS} rows", interactive=False, max_height=320)
                schema_table = gr.Dataframe(label="How each column is used, and why", interactive=False,
                                            wrap=True, max_height=420)
                with gr.Accordion("Change how the columns are used", open=False):
                    with gr.Row():
                        id_col = gr.Dropdown(label="Customer ID column (never used to build segments)")
                        exclude = gr.Dropdown(label="Leave these columns out", multiselect=True)
                        features = gr.Dropdown(label="Use only these columns (empty = all usable ones)",
                                               multiselect=True)
                    columns_btn = gr.Button("Apply column choices")
                    with gr.Row():
                        type_col = gr.Dropdown(label="Change the type of column")
                        type_kind = gr.Dropdown(label="to", choices=sup.TYPE_CHOICES, value=sup.AUTO_TYPE)
                        type_btn = gr.Button("Set type", min_width=100)
                    types_md = gr.Markdown("Type changes: none")
                with gr.Accordion("Column meanings and weights", open=False):
                    gr.Markdown(sup.MEANINGS_HELP)
                    meanings_table = gr.Dataframe(headers=sup.MEANING_HEADERS, interactive=True, wrap=True,
                                                  static_columns=[0, 5], max_height=420,
                                                  elem_id="meanings-table")
                    implausible_md = gr.Markdown(elem_id="implausible")
                    drop_box = gr.Checkbox(label="Leave out the rows with implausible values", value=False)
                    with gr.Row():
                        meanings_btn = gr.Button("Apply meanings and weights")
                        propose_btn = gr.Button("Propose labels with the LLM", visible=sup.llm_client() is not None)
                    proposals_md = gr.Markdown(elem_id="label-proposals")
            with gr.Tab("2 Segment", id="segment"):
                algorithm = gr.Dropdown(label="How to find segments", choices=sup.ALGORITHM_CHOICES,
                                        value="auto")
                with gr.Accordion("Advanced settings", open=False), gr.Row():
                    k = gr.Number(label="Number of segments (0 = choose automatically; K-Means, "
                                        "GMM, agglomerative)", value=0, precision=None, step=1, minimum=0, maximum=50)
                    mcs = gr.Number(label="Smallest segment size for HDBSCAN (0 = automatic)", value=0,
                                    precision=None, step=1, minimum=0)  # 2.5 reaches our check, not rounded
                    seed = gr.Number(label="Random seed (same seed, same result)", value=0, precision=None,
                                     step=1, minimum=0)
                run_btn = gr.Button("Find segments", variant="primary", elem_id="run-segment")
                summary = gr.Markdown(elem_id="segment-summary")
                with gr.Row():
                    sizes_plot = gr.Plot(label="Segment sizes", min_width=300)
                    map_plot = gr.Plot(label="Map of customers coloured by segment", min_width=300)
                curve_plot = gr.Plot(label="How the number of segments was chosen")
                comparison = gr.Dataframe(label="The same table segmented by each algorithm",
                                          interactive=False, wrap=True)
                more_views = more_views_block()
            with gr.Tab("3 Explain", id="explain"):
                fidelity = gr.Markdown()
                seg_pick = gr.Dropdown(label="Segment to explain", choices=[])
                with gr.Row():
                    drivers_plot = gr.Plot(label="What sets this segment apart (SHAP drivers)", min_width=300)
                    compare_plot = gr.Plot(label="This segment against everyone", min_width=300)
                with gr.Row():
                    cust_id = gr.Textbox(label="Look up one customer by ID", scale=3)
                    cust_btn = gr.Button("Why is this customer here?", scale=1, min_width=140)
                cust_why = gr.Markdown(elem_id="customer-why")
            with gr.Tab("4 Personas", id="personas") as personas_tab:
                with gr.Row():
                    rename_pick = gr.Dropdown(label="Rename segment", choices=[], scale=2)
                    rename_text = gr.Textbox(label="New name", max_length=60, scale=2)
                    rename_btn = gr.Button("Rename", scale=1, min_width=100)
                with gr.Row():
                    downloads = [gr.DownloadButton(label, size="sm", min_width=150) for _, label in DOWNLOADS]
                cards = gr.HTML(elem_id="persona-cards", js_on_load=None)
            with gr.Tab("5 Chat", id="chat"):
                llm_line = gr.Markdown()
                chatbot = gr.Chatbot(label="Ask about your segments", height=420, elem_id="chatbot")
                with gr.Row():
                    question = gr.Textbox(label=f"Your question (up to {MAX_QUESTION_CHARS:,} characters)", scale=4,
                                          placeholder="e.g. How big is the largest segment?",
                                          max_length=MAX_QUESTION_CHARS)
                    ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80)
                suggested = gr.Dataset(label="Suggested questions (click one)", components=[question],
                                       samples=[], samples_per_page=6)
            with gr.Tab("6 Predict", id="predict"):
                gr.Markdown("Which segment would a new customer fall into? The form starts with a typical "
                            "customer of the largest segment: edit the values and press **Predict**, or "
                            "upload a file of new customers with the same columns.")
                form = gr.Dataframe(label="One new customer (edit the Value column)", interactive=True,
                                    headers=sup.FORM_HEADERS, static_columns=[0, 2], wrap=True)
                with gr.Row():
                    form_btn = gr.Button("Reset to a typical customer")
                    predict_btn = gr.Button("Predict", variant="primary")
                predict_file = gr.File(label="Or upload new customers (CSV, Parquet or Excel)",
                                       file_types=UPLOAD_TYPES, type="filepath", height=140)
                predicted = gr.Dataframe(label="Assigned segments", interactive=False, max_height=360,
                                         headers=sup.RESULT_HEADERS)
                predicted_dl = gr.DownloadButton("Download the assigned segments (CSV)", visible=False)
                with gr.Row():
                    pred_id = gr.Textbox(label="Explain another predicted customer (ID)", scale=3)
                    pred_btn = gr.Button("Why?", scale=1, min_width=80)
                pred_why = gr.Markdown(elem_id="predict-why")

        data_out = [session, data_status, preview, schema_table, id_col, exclude, features, type_col,
                    meanings_table, drop_box, implausible_md, types_md]
        seg_in = [algorithm, k, mcs, seed, session]
        seg_out = [session, summary, chatbot]
        views_out = [summary, comparison, sizes_plot, map_plot, curve_plot, fidelity, seg_pick,
                     drivers_plot, compare_plot, cust_id, cards, rename_pick, *downloads,
                     suggested, llm_line, form, *more_views]
        private = {"api_visibility": "private"}
        heavy = {"concurrency_id": HEAVY, "concurrency_limit": 2}

        loaded = demo.load(on_load_demo, None, data_out, api_name="load_demo", **heavy)
        first_run = loaded.success(on_segment, seg_in, seg_out, **private, **heavy)
        first_views = first_run.success(on_views, [session], views_out, show_progress_on=[summary, cards], **private)
        stale = [first_run, first_views]  # a new table replaces the opening demo run
        demo_btn.click(on_load_demo, None, data_out, show_progress_on=[data_status], cancels=stale,
                       **private, **heavy) \
            .success(on_segment, seg_in, seg_out, **private, **heavy) \
            .success(on_views, [session], views_out, show_progress_on=[summary, cards], **private)
        stale_out = [*views_out, chatbot, cust_why, predicted, predicted_dl, pred_why]  # the old table's results

        def on_new_table(file, progress=gr.Progress()):
            """A new table: its overview, and every result of the previous table cleared."""
            return (*on_upload(file, progress), *cleared(stale_out, note_on=(summary, cards)))

        upload.upload(on_new_table, [upload], [*data_out, *stale_out], api_name="upload",
                      show_progress_on=[data_status], cancels=stale, **heavy)
        columns_btn.click(on_columns, [id_col, exclude, features, session], data_out, api_name="columns")
        type_btn.click(on_set_type, [type_col, type_kind, session], data_out, api_name="set_type")
        meanings_btn.click(on_meanings, [meanings_table, drop_box, session], data_out, api_name="meanings")
        propose_btn.click(on_propose, [meanings_table, session], [meanings_table, proposals_md],
                          api_name="propose_labels")
        run_btn.click(on_segment, seg_in, seg_out, api_name="segment", **heavy) \
            .success(on_views, [session], views_out, show_progress_on=[summary, cards], api_name="views")
        seg_pick.input(on_pick_segment, [seg_pick, session], [drivers_plot, compare_plot], api_name="drivers")
        cust_btn.click(on_explain_customer, [cust_id, session], cust_why, api_name="explain_customer")
        cust_id.submit(on_explain_customer, [cust_id, session], cust_why, **private)
        personas_tab.select(on_cards, [session], cards, api_name="cards", show_progress="hidden")
        rename_btn.click(on_rename, [rename_pick, rename_text, session], [session, rename_text],
                         api_name="rename").success(on_views, [session], views_out, show_progress_on=[summary, cards], **private)
        chat_out = [chatbot, question, session, suggested]
        ask_btn.click(on_chat, [question, chatbot, session], chat_out, api_name="chat")
        question.submit(on_chat, [question, chatbot, session], chat_out, **private)
        suggested.click(on_suggestion, [suggested, chatbot, session], chat_out, **private)
        form_btn.click(on_predict_form, [session], form, api_name="predict_form")
        predict_btn.click(on_predict, [form, session], [predicted, pred_why, session], api_name="predict")
        predict_file.upload(on_predict_file, [predict_file, session],
                            [predicted, predicted_dl, pred_why, session], api_name="predict_file", **heavy)
        pred_btn.click(on_explain_predicted, [pred_id, session], pred_why, api_name="explain_predicted")
        demo.unload(on_unload)
    demo.queue(default_concurrency_limit=4, max_size=64)
    return demo


demo = build_app()

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sup.sweep_session_dirs(base=FILES_BASE)
    sup.warm_demo()  # the opening demo run, computed while the server starts (shared by every visitor)
    demo.launch(max_file_size=f"{sup.MAX_UPLOAD_MB}mb", theme=gr.themes.Soft(), css=CSS,
                footer_links=["api"])
