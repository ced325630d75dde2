/* In-page links (href="#id") scroll to their target and move the focus there, as the browser
   would, without the location change that makes Dash's page router draw the page again (a
   redrawn page loses the place the link went to). The address still gets the #id. */
window.addEventListener('click', function (event) {
    if (event.defaultPrevented || event.button !== 0 ||
        event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return;
    }
    var link = event.target.closest && event.target.closest('a[href^="#"]');
    if (!link) {
        return;
    }
    var id = decodeURIComponent(link.getAttribute('href').slice(1));
    var target = id && document.getElementById(id);
    if (!target) {
        return;
    }
    event.preventDefault();
    event.stopPropagation();
    if (!target.hasAttribute('tabindex')) {
        target.setAttribute('tabindex', '-1');
    }
    target.scrollIntoView({block: 'start'});
    target.focus({preventScroll: true});
    window.history.pushState(window.history.state, '', '#' + encodeURIComponent(id));
}, true);
