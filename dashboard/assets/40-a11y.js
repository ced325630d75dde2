/* Repairs to what Dash's and dash-bootstrap-components' widgets draw, so that every page meets
   WCAG 2.2 AA (issue #17). Each runs whenever Dash draws or redraws part of the page.

   - dcc.Dropdown takes keyboard focus on a hidden, aria-hidden input that hands it on to the
     dropdown's button: a screen reader meets a focusable element it is told to ignore (4.1.2),
     and the button the label names is out of the Tab order. The button is made the Tab stop.
   - dbc.Tabs gives every tab the same id and points it at a panel that does not exist
     ("…-tab-null"): each tab and panel get ids of their own that name each other (4.1.2).
   - dcc.Upload's file input has no name: it takes the drop zone's text (1.3.1, 4.1.2).
   - A list of choices drawn as a listbox (dcc.RadioItems) is named by its <label for=…>. */
(function () {
    function dropdowns(root) {
        root.querySelectorAll('input.dash-dropdown-focus-target').forEach(function (input) {
            if (input.tabIndex !== -1) {
                input.tabIndex = -1;
            }
            var button = input.nextElementSibling;
            if (button && button.tagName === 'BUTTON' && !button.disabled && button.tabIndex !== 0) {
                button.tabIndex = 0;
            }
        });
    }

    function tabs(root) {
        root.querySelectorAll('ul[role="tablist"]').forEach(function (list, n) {
            var base = list.id || ('cm-tabs-' + n);
            var content = list.nextElementSibling;
            var panes = content ? content.querySelectorAll(':scope > [role="tabpanel"]') : [];
            list.querySelectorAll('[role="tab"]').forEach(function (tab, i) {
                var tabId = base + '-tab-' + i, paneId = base + '-panel-' + i;
                if (tab.id !== tabId) {
                    tab.id = tabId;
                }
                if (panes[i]) {
                    if (panes[i].id !== paneId) {
                        panes[i].id = paneId;
                    }
                    if (panes[i].getAttribute('aria-labelledby') !== tabId) {
                        panes[i].setAttribute('aria-labelledby', tabId);
                    }
                    if (tab.getAttribute('aria-controls') !== paneId) {
                        tab.setAttribute('aria-controls', paneId);
                    }
                } else if (tab.hasAttribute('aria-controls')) {
                    tab.removeAttribute('aria-controls');
                }
            });
        });
    }

    function uploads(root) {
        root.querySelectorAll('input[type="file"]:not([aria-label])').forEach(function (input) {
            var zone = input.parentElement;
            var text = zone && zone.textContent.trim();
            if (text) {
                input.setAttribute('aria-label', text);
            }
        });
    }

    function listboxes(root) {
        root.querySelectorAll('[role="listbox"][id]:not([aria-labelledby])').forEach(function (box) {
            var label = document.querySelector('label[for="' + CSS.escape(box.id) + '"]');
            if (label) {
                label.id = label.id || (box.id + '-label');
                box.setAttribute('aria-labelledby', label.id);
            }
        });
    }

    var queued = false;
    function repair() {
        queued = false;
        dropdowns(document);
        tabs(document);
        uploads(document);
        listboxes(document);
    }
    new MutationObserver(function () {
        if (!queued) {
            queued = true;
            window.requestAnimationFrame(repair);
        }
    }).observe(document.documentElement, {
        subtree: true, childList: true, attributes: true,
        attributeFilter: ['tabindex', 'disabled', 'id', 'aria-controls', 'aria-labelledby']
    });
    repair();
})();
