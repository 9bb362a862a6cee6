// Package blockkit names Slack's documented Block Kit limits, checks whole
// payloads against them (Validate), and offers helpers that keep long lists
// within them by construction (Pack, Sections, Fit, Truncate).
//
// Every length is counted in characters, as Slack states its limits
// ("Maximum length for the text in this field is 3000 characters"): Unicode
// code points, counted with utf8.RuneCountInString, never bytes. "ü" is one
// character, "€" is one character, and an emoji such as "👍" is one.
//
// The limits below are quoted from Slack's reference pages (docs.slack.dev,
// formerly api.slack.com/reference/block-kit). Each constant names the page
// it comes from:
//
//	blocks            https://docs.slack.dev/reference/block-kit/blocks
//	section           https://docs.slack.dev/reference/block-kit/blocks/section-block
//	header            https://docs.slack.dev/reference/block-kit/blocks/header-block
//	context           https://docs.slack.dev/reference/block-kit/blocks/context-block
//	actions           https://docs.slack.dev/reference/block-kit/blocks/actions-block
//	input             https://docs.slack.dev/reference/block-kit/blocks/input-block
//	image             https://docs.slack.dev/reference/block-kit/blocks/image-block
//	button            https://docs.slack.dev/reference/block-kit/block-elements/button-element
//	image element     https://docs.slack.dev/reference/block-kit/block-elements/image-element
//	select menus      https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element
//	plain-text input  https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element
//	text object       https://docs.slack.dev/reference/block-kit/composition-objects/text-object
//	option object     https://docs.slack.dev/reference/block-kit/composition-objects/option-object
//	option group      https://docs.slack.dev/reference/block-kit/composition-objects/option-group-object
//	confirm dialog    https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object
//	modal view        https://docs.slack.dev/reference/views/modal-views (api.slack.com/reference/surfaces/views)
//	message text      https://api.slack.com/changelog/2018-04-truncating-really-long-messages
package blockkit

// Blocks per surface. blocks: "You can include up to 50 blocks in each
// message, and 100 blocks in modals or Home tabs." The modal view reference
// repeats it for views: "blocks: ... Max of 100 blocks."
const (
	MaxMessageBlocks = 50
	MaxViewBlocks    = 100
)

// Text objects. text object: "text: ... The minimum length is 1 and maximum
// length is 3000 characters." Every text object, wherever it is used, is
// also held to this; the limits of the fields below are tighter.
const (
	MinText = 1
	MaxText = 3000
)

// Section block. section: "text: ... Minimum length for the text in this
// field is 1 and maximum length is 3000 characters. This field is not
// required if a valid array of fields objects is provided instead."
// "fields: Required if no text is provided. ... Maximum number of items is
// 10. Maximum length for the text in each item is 2000 characters."
const (
	MaxSectionText   = 3000
	MaxSectionFields = 10
	MaxSectionField  = 2000
)

// Header block. header: "text: The text for the block, in the form of a
// plain_text text object. Maximum length for the text in this field is 150
// characters."
const MaxHeaderText = 150

// Context block. context: "elements: An array of image elements and text
// objects. Maximum number of items is 10."
const MaxContextElements = 10

// Actions block. actions: "elements: An array of interactive element
// objects ... There is a maximum of 25 elements in each action block."
const MaxActionsElements = 25

// Identifiers. Every block: "block_id: ... Maximum length for this field is
// 255 characters." Every interactive element: "action_id: ... Should be
// unique among all other action_ids in the containing block. Maximum length
// is 255 characters." Modal view: "callback_id: ... Max length of 255
// characters."
const (
	MaxBlockID    = 255
	MaxActionID   = 255
	MaxCallbackID = 255
)

// Button element. button: "text: A text object that defines the button's
// text. Can only be of type: plain_text. text may truncate with ~30
// characters. Maximum length for the text in this field is 75 characters."
// "url: ... Maximum length is 3000 characters." "value: ... Maximum length is
// 2000 characters." "accessibility_label: ... Maximum length for this field
// is 75 characters." (the @slack/types Button reference, which mirrors the
// page). style is "primary" or "danger".
const (
	MaxButtonText               = 75
	MaxButtonValue              = 2000
	MaxButtonURL                = 3000
	MaxButtonAccessibilityLabel = 75
)

// Select menus. select menus: "placeholder: A plain_text only text object
// that defines the placeholder text shown on the menu. Maximum length for
// the text in this field is 150 characters." "options: An array of option
// objects. Maximum number of options is 100." option group: "An
// option_groups array can have a maximum number of 100 option groups with a
// maximum of 100 options." "label: A plain_text text object ... Maximum
// length for the text in this field is 75 characters." The placeholder of
// every element that has one (plain-text input, date pickers, ...) is held
// to the same 150 characters (the @slack/types Placeholdable reference).
const (
	MaxPlaceholder       = 150
	MaxSelectOptions     = 100
	MaxOptionGroups      = 100
	MaxOptionGroupLabel  = 75
	MaxOptionGroupOption = 100
)

// Overflow menu. overflow menu (api.slack.com/reference/block-kit/block-elements#overflow):
// "options: ... Maximum number of options is 5".
const MaxOverflowOptions = 5

// Option object. option object: "text: ... Overflow, select, and
// multi-select menus can only use plain_text objects, while radio buttons
// and checkboxes can use mrkdwn text objects. Maximum length for the text in
// this field is 75 characters." "value: A unique string value that will be
// passed to your app when this option is chosen. Maximum length for this
// field is 150 characters." (older copies of the page, and @slack/types,
// still say 75). "description: A plain_text text object ... Maximum length
// for the text in this field is 75 characters." "url: ... Only available in
// overflow menus ... Maximum length for this field is 3000 characters."
const (
	MaxOptionText        = 75
	MaxOptionValue       = 150
	MaxOptionDescription = 75
	MaxOptionURL         = 3000
)

// Confirmation dialog object. confirm dialog: "title: A plain_text text
// object that defines the dialog's title. Maximum length for this field is
// 100 characters." "text: A plain_text text object ... Maximum length for
// the text in this field is 300 characters." "confirm: ... Maximum length
// for the text in this field is 30 characters." "deny: ... Maximum length
// for the text in this field is 30 characters." All four are required;
// style is "primary" or "danger".
const (
	MaxConfirmTitle  = 100
	MaxConfirmText   = 300
	MaxConfirmButton = 30
)

// Input block. input: "label: A label that appears above an input
// element in the form of a text object that must have type of plain_text.
// Maximum length for the text in this field is 2000 characters." "hint: ...
// It must be a text object with a type of plain_text. Maximum length for the
// text in this field is 2000 characters."
const (
	MaxInputLabel = 2000
	MaxInputHint  = 2000
)

// Plain-text input element. plain-text input: max_length "The maximum
// length of input that the user can provide ... Acceptable values for this
// field are between 1 and 3000, inclusive"; min_length likewise between 0
// and 3000.
const MaxPlainTextInputLength = 3000

// Modal and Home tab views. modal view: "title: ... Must be a plain_text
// text element with a max length of 24 characters." "close: A plain_text
// element ... Max length of 24 characters." "submit: A plain_text element
// ... submit is required when an input block is within the blocks array.
// Max length of 24 characters." "private_metadata: A string that will be
// sent to your app in view_submission and block_actions events. Max length
// of 3000 characters." (Home tabs share blocks, private_metadata and
// callback_id.)
const (
	MaxViewTitle       = 24
	MaxViewSubmit      = 24
	MaxViewClose       = 24
	MaxPrivateMetadata = 3000
)

// Image block and image element. image: "alt_text: A plain-text summary of
// the image. This should not contain any markup. Maximum length for this
// field is 2000 characters." "image_url: ... You must provide either an
// image_url or slack_file. Maximum length for this field is 3000
// characters." "title: An optional title for the image in the form of a
// text object that can only be of type: plain_text. Maximum length for the
// text in this field is 2000 characters." image element: "image_url: ...
// Maximum length for this field is 3000 characters." (the element's page
// states no alt_text limit; the block's 2000 is applied to both).
const (
	MaxImageAltText = 2000
	MaxImageURL     = 3000
	MaxImageTitle   = 2000
)

// Message text, the top-level "text" of chat.postMessage, chat.update,
// chat.postEphemeral and of slash command and response_url answers, which
// is the fallback shown in notifications when the message has blocks.
// message text: "On August 12, 2018 we started truncating messages
// containing more than 40,000 characters ... This behavior applies to all
// methods of posting messages to Slack: chat.postMessage,
// chat.postEphemeral, interactive message and slash command response URLs,
// incoming webhooks". The chat.postMessage reference adds: "For best
// results, limit the number of characters in the text field to 4,000
// characters." Validate enforces MaxMessageText; RecommendedMessageText is
// advice, not a limit.
const (
	MaxMessageText         = 40000
	RecommendedMessageText = 4000
)
