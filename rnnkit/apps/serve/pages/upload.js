// The upload pages (caption, video, speech): choose a file, preview it, send it as multipart,
// show the answer. Each page sets window.UPLOAD = {describe(info), render(out)} before loading this.
"use strict";

loadRun().then((info) => { $("#about").textContent = window.UPLOAD.describe(info); })
  .catch((e) => setStatus(e.message, true));

$("#file").addEventListener("change", () => {
  const f = $("#file").files[0];
  const p = $("#preview");
  if (!f || !p) return;
  p.src = URL.createObjectURL(f);
  p.style.display = "";
});

$("#submit").addEventListener("click", async () => {
  const f = $("#file").files[0];
  if (!f) { setStatus("choose a file first", true); document.body.dataset.state = "error"; return; }
  const form = new FormData();
  form.append("file", f);
  $("#submit").disabled = true;
  setStatus("working…");
  try {
    const out = await api(`/api/${encodeURIComponent(RUN)}/predict`, { method: "POST", body: form });
    $("#result").replaceChildren(...window.UPLOAD.render(out));
    setStatus(`${out.file}: done` + (out.resized_from ? ` (resized from ${out.resized_from} to ${out.model_size || "the model's size"})` : ""));
    document.body.dataset.state = "done";
  } catch (e) {
    setStatus(e.message, true);
    document.body.dataset.state = "error";
  } finally {
    $("#submit").disabled = false;
  }
});
