// Loaded before RequireJS and ipywidgets' HTML manager on a page with stored widgets
// (_config.yml's nb_ipywidgets_js; book/_ext/convlens_widgets.py serves the two from npm).
// 1. RequireJS resolves modules, and so the HTML manager its icon fonts, under this folder
//    (_static/widgets/), not under the page's folder.
// 2. The HTML manager typesets widget labels with MathJax 2's MathJax.Hub.Queue; the book has
//    MathJax 3, which has no Hub: the call goes to MathJax 3's typesetPromise instead.
// A `var`: require.js declares `var require` itself and reads this one as its configuration.
var require = { baseUrl: new URL('./', document.currentScript.src).href };

window.addEventListener('load', () => {
  const mathJax = window.MathJax;
  if (mathJax && !mathJax.Hub) {
    mathJax.Hub = {
      Queue: ([, , element]) => Promise.resolve(mathJax.startup && mathJax.startup.promise)
        .then(() => mathJax.typesetPromise && mathJax.typesetPromise([element])),
    };
  }
});
