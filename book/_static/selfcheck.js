// Self-check questions (book/_ext/convlens_assignments.py): a click on a choice says whether it
// is right; the right one also shows the explanation. No kernel, no request to another host.
function answer(question, button) {
  const feedback = question.querySelector(".selfcheck-feedback");
  const explain = question.querySelector(".selfcheck-explain");
  const right = button.dataset.right === "1";
  for (const other of question.querySelectorAll(".selfcheck-choice")) {
    other.classList.remove("selfcheck-right", "selfcheck-wrong");
  }
  button.classList.add(right ? "selfcheck-right" : "selfcheck-wrong");
  feedback.textContent = right ? "Right." : "Not quite: try another answer.";
  feedback.dataset.result = right ? "right" : "wrong";
  explain.hidden = !right;
}

for (const question of document.querySelectorAll(".selfcheck")) {
  for (const button of question.querySelectorAll(".selfcheck-choice")) {
    button.addEventListener("click", () => answer(question, button));
  }
}
