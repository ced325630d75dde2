/* Repairs to what Dash's and dash-bootstrap-components' widgets draw, so that every page meets
   WCAG 2.2 AA (issue #17). Each runs whenever Dash draws or redraws part of the page.

   - dcc.Dropdown takes keyboard focus on a hidden, aria-hidden input that hands it on to the
     dropdown's button: a screen reader meets a focusable element it is told to ignore (4.1.2),
     and the button the label names is out of the Tab order. The button is made the Tab stop.
   - dbc.Tabs gives every tab the same id and points it at a panel that does not exist
     ("…-tab-null"): each tab and panel get ids of their own that name each other (4.1.2).
   - dcc.Upload's file input has no name: it takes the drop zone's text (1.3.1, 4.1.2).
   - dcc.DatePickerSingle puts a button's states (aria-haspopup, aria-expanded) on the plain
     box around its date field, which is no button (4.1.2): they are taken off; the field
     itself takes the date typed.
   - dcc.RadioItems draws its radio buttons inside the options of a listbox: a control within
     a control (4.1.2). It is made what it is, a group of radio buttons, named by its
     <label for=…>.
   - A chart in a <figure class="cm-chart"> (dashboard/components/charts.py) gets, each time
     Plotly draws it, a caption read from its figure and its data as a table (1.1.1, 1.3.1). */
(function () {
    /* The words written into the page come from the server in the reader's language (the
       #cm-words block, dashboard/components/common.py script_words); the script holds no
       English of its own. */
    var words = null;
    function word(name) {
        if (words === null) {
            var block = document.getElementById('cm-words');
            try {
                words = block ? JSON.parse(block.textContent) : {};
            } catch (e) {
                words = {};
            }
        }
        return words[name] || '';
    }

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

    function datepickers(root) {
        root.querySelectorAll('.dash-datepicker-input-wrapper:not([role])').forEach(function (box) {
            ['aria-haspopup', 'aria-expanded', 'aria-disabled'].forEach(function (name) {
                if (box.hasAttribute(name)) {
                    box.removeAttribute(name);
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
        root.querySelectorAll('.dash-radioitems[role="listbox"]').forEach(function (box) {
            box.setAttribute('role', 'radiogroup');
        });
        root.querySelectorAll('.dash-radioitems label[role="option"]').forEach(function (option) {
            option.removeAttribute('role');
            option.removeAttribute('aria-selected');
        });
        root.querySelectorAll('[role="radiogroup"][id]:not([aria-labelledby])').forEach(function (box) {
            var label = document.querySelector('label[for="' + CSS.escape(box.id) + '"]');
            if (label) {
                label.id = label.id || (box.id + '-label');
                box.setAttribute('aria-labelledby', label.id);
            }
        });
    }

    function title(gd) {
        var t = gd.layout && gd.layout.title;
        return (t && (t.text || (typeof t === 'string' ? t : ''))) || '';
    }

    function shown(v) {
        if (v === null || v === undefined || v === '') {
            return '—';
        }
        return typeof v === 'number' ? (Math.round(v * 10) / 10).toLocaleString(document.documentElement.lang || 'en', {useGrouping: 'always'}) : String(v);
    }

    // The chart's figures as rows: [[x label, value per series…]], with the series' names.
    function tabulate(gd) {
        var traces = (gd.data || []).filter(function (t) {
            return t.visible !== false && (!t.yaxis || t.yaxis === 'y') && !t.fill;
        });
        var heat = traces.filter(function (t) { return t.type === 'heatmap'; })[0];
        if (heat) {
            var cols = (heat.x || []).map(String), rows = [];
            (heat.y || []).forEach(function (y, i) {
                var texts = (heat.customdata || heat.text || [])[i] || [], zs = (heat.z || [])[i] || [];
                rows.push([String(y)].concat(cols.map(function (_c, j) {
                    return shown(texts[j] !== undefined ? texts[j] : zs[j]);
                })));
            });
            return {head: [''].concat(cols), rows: rows};
        }
        var named = traces.filter(function (t) {
            return (t.x || []).some(function (x) { return x !== null && x !== undefined; });
        });
        var keys = [], index = {};
        var series = named.map(function (t) {
            var across = t.orientation === 'h', values = {};
            var xs = across ? t.y : t.x, ys = across ? t.x : t.y;
            (xs || []).forEach(function (x, i) {
                if (x === null || x === undefined) {
                    return;
                }
                if (!(x in index)) {
                    index[x] = keys.length;
                    keys.push(x);
                }
                var mark = Array.isArray(t.text) && t.text[i] ? ' ' + t.text[i] : '';
                values[x] = shown(ys ? ys[i] : null) + mark;
            });
            return {name: t.name || title(gd) || word('value'), values: values};
        });
        return {
            head: [''].concat(series.map(function (s) { return s.name; })),
            rows: keys.map(function (x) {
                return [String(x)].concat(series.map(function (s) { return s.values[x] || '—'; }));
            })
        };
    }

    function caption(gd, data) {
        var name = title(gd).replace(/<[^>]+>/g, '');
        var parts = data.head.slice(1).map(function (series, k) {
            var points = data.rows.map(function (r) { return r[0] + ' ' + r[k + 1]; });
            var more = points.length > 12
                ? word('andMore').replace('{n}', String(points.length - 12)) : '';
            return (series ? series + ': ' : '') + points.slice(0, 12).join(', ') + more;
        });
        return (name ? name + '. ' : '') + (parts.join('; ') || '—') + '.';
    }

    function table(data, hidden) {
        var t = document.createElement('table');
        t.className = 'table table-sm small mb-0' + (hidden ? ' visually-hidden' : '');
        var head = t.createTHead().insertRow();
        data.head.forEach(function (h) {
            var th = document.createElement('th');
            th.scope = 'col';
            th.textContent = h;
            head.appendChild(th);
        });
        var body = t.createTBody();
        data.rows.forEach(function (r) {
            var tr = body.insertRow();
            r.forEach(function (v, i) {
                var cell = document.createElement(i ? 'td' : 'th');
                if (!i) {
                    cell.scope = 'row';
                }
                cell.textContent = v;
                tr.appendChild(cell);
            });
        });
        return t;
    }

    function describe(figure, gd) {
        var data = tabulate(gd);
        var text = figure.querySelector(':scope > figcaption.cm-chart-text');
        if (text && figure.dataset.caption === 'chart') {
            text.textContent = caption(gd, data);
        }
        var slot = figure.querySelector(':scope > .cm-chart-table');
        var how = figure.dataset.table;
        if (!slot || how === 'none') {
            return;
        }
        slot.textContent = '';
        if (how === 'hidden') {
            slot.appendChild(table(data, true));
            return;
        }
        var details = document.createElement('details');
        var summary = document.createElement('summary');
        summary.className = 'small';
        summary.textContent = word('chartAsTable');
        details.appendChild(summary);
        var scroll = document.createElement('div');
        scroll.className = 'table-responsive cm-table-scroll';
        scroll.tabIndex = 0;
        scroll.setAttribute('role', 'region');
        scroll.setAttribute('aria-label', summary.textContent);
        scroll.appendChild(table(data, false));
        details.appendChild(scroll);
        slot.appendChild(details);
    }

    function charts(root) {
        root.querySelectorAll('figure.cm-chart .js-plotly-plot').forEach(function (gd) {
            var figure = gd.closest('figure.cm-chart');
            if (gd.__cmDescribed !== gd.data) {
                gd.__cmDescribed = gd.data;
                describe(figure, gd);
            }
            if (!gd.__cmHooked && gd.on) {
                gd.__cmHooked = true;
                gd.on('plotly_afterplot', function () {
                    gd.__cmDescribed = gd.data;
                    describe(figure, gd);
                });
            }
        });
    }

    var queued = false;
    function repair() {
        queued = false;
        dropdowns(document);
        tabs(document);
        uploads(document);
        datepickers(document);
        listboxes(document);
        charts(document);
    }
    new MutationObserver(function () {
        if (!queued) {
            queued = true;
            window.requestAnimationFrame(repair);
        }
    }).observe(document.documentElement, {
        subtree: true, childList: true, attributes: true,
        attributeFilter: ['tabindex', 'disabled', 'id', 'aria-controls', 'aria-labelledby', 'role',
                          'aria-expanded', 'aria-haspopup']
    });
    repair();
})();
