/* Cell renderers for dash-ag-grid (looked up by name from columnDefs' cellRenderer). */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions =
    window.dashAgGridComponentFunctions || {});

/* A list of {kind: "error" | "warning", label, message} as Bootstrap badges. */
dagcomponentfuncs.CheckBadges = function (props) {
    var items = Array.isArray(props.value) ? props.value : [];
    return React.createElement(
        'span',
        {className: 'cm-checks'},
        items.map(function (item, i) {
            var error = item.kind === 'error';
            return React.createElement(
                'span',
                {
                    key: i,
                    className:
                        'badge me-1 ' +
                        (error ? 'bg-danger cm-problem' : 'bg-warning text-dark cm-flag'),
                    title: item.message || item.label,
                },
                item.label
            );
        })
    );
};

/* A value's History link (the review page opens the history when the cell is clicked); its
   words come from the column's cellRendererParams, in the reader's language. */
dagcomponentfuncs.HistoryLink = function (props) {
    if (props.value == null) {
        return null;
    }
    return React.createElement(
        'button',
        {
            type: 'button',
            className: 'btn btn-link btn-sm p-0 cm-history-link',
            title: props.title,
        },
        props.label
    );
};
