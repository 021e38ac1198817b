//! Writing an answer in XML: quick-xml's serde serializer (escaping and element nesting by a well-kept
//! crate, never by hand) under the XML declaration. The shapes' texts are [`super::spec::Text`]s, which
//! hold only characters XML 1.0 allows, so every document is well-formed.

use quick_xml::se::to_string_with_root;
use serde::Serialize;

/// The declaration every XML answer starts with.
const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// `value` as an XML document whose root element is `root`.
pub fn document<T: Serialize>(root: &str, value: &T) -> Result<String, quick_xml::SeError> {
    Ok(format!("{DECLARATION}{}", to_string_with_root(root, value)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::open311::spec::{ErrorEntry, Format, List, Text};

    #[test]
    fn errors_read_as_the_spec_writes_them() {
        let errors = List::new(
            Format::Xml,
            "error",
            vec![ErrorEntry { code: 400, description: Text::new("jurisdiction_id: required <here> & \u{1}") }],
        );
        assert_eq!(
            document("errors", &errors).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<errors><error><code>400</code>\
             <description>jurisdiction_id: required &lt;here&gt; &amp; \u{fffd}</description></error></errors>"
        );
    }
}
